"""End-to-end: the weekly review reaches a REAL SMTP server on loopback (Debian's
python3-aiosmtpd, started by the test on a free port) from `casewatchd --once`, parsed back with
Python's `email` package: headers, parts, the allow-listed CSV. Server down, then up: each
message delivered once. A 5xx recipient does not stop the others and is recorded as failed. An
alert fires once, is not repeated within repeat_interval and resolves. The service's own sender
delivers a queued message (no --once).

These tests need `casewatchd --once` to queue and deliver mail. Until the engine does, they skip
(and say so); once any mail is queued in the outbox, they fail for real on any discrepancy.
STARTTLS with a self-signed certificate, authentication and the temporary/permanent sorting of
failures are tested against the same server in tests/daemon/mailer_test.cpp (SmtpMailer).
"""
import datetime
import email
import email.policy
import json
import os
import pathlib
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import unittest

from once_support import CASE_HEADER, CASES_CONFIG, CASEWATCHD, OnceTestCase

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mail_inspect import inspect  # noqa: E402

MAIL_CONFIG = """
[mail]
server = "smtp://127.0.0.1:{port}"
tls = "none"
from = "casewatch@council.example"
allowed_domains = ["council.example"]

[[route]]
name = "all"
to = {to}
"""


def have_aiosmtpd():
    return subprocess.run(["/usr/bin/python3", "-c", "import aiosmtpd"],
                          capture_output=True).returncode == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cases_csv():
    rows = [
        "A,P-A,Team A,,01/10/2026,,Open,,",   # unallocated 46 days at 2026-11-16
        "B,P-B,Team A,,09/11/2026,,Open,,",   # 7 days: band table only
        "C,P-C,Team B,J Smith,01/10/2026,,Open,02/10/2026,",
    ]
    return "\r\n".join([CASE_HEADER, *rows]) + "\r\n"


class MailServer:
    """tests/e2e/mail_smtp_server.py on loopback; stops when its stdin closes."""

    def __init__(self, folder, *args, port=0):
        self.folder = pathlib.Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        command = ["/usr/bin/python3", str(HERE / "mail_smtp_server.py"), "--dir",
                   str(self.folder), "--port", str(port), *args]
        with open(self.folder / "server.log", "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log)
        line = self.process.stdout.readline().decode()  # "PORT n" once it accepts connections
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the SMTP server did not start: {line!r}")
        self.port = int(line.split()[1])

    def messages(self):
        """[(recipients, raw bytes)] in the order received."""
        out = []
        for eml in sorted(self.folder.glob("*.eml"), key=lambda p: int(p.stem)):
            rcpt = eml.with_suffix(".rcpt").read_text().split()
            out.append((rcpt, eml.read_bytes()))
        return out

    def wait_idle(self, deadline=30.0):
        """Returns once no client is connected: every message a killed client left is stored
        by then, or never will be."""
        self.process.stdin.write(b"IDLE\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], deadline)
        line = self.process.stdout.readline().decode() if ready else ""
        if line != "IDLE\n":
            raise AssertionError(f"the SMTP server did not answer IDLE within {deadline} s")

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        self.process.stdout.close()


class MailTestCase(OnceTestCase):
    def setUp(self):
        if not have_aiosmtpd():
            self.skipTest("python3-aiosmtpd is not installed")
        super().setUp()

    def configure(self, port, to):
        quoted = "[" + ", ".join(f'"{t}"' for t in to) + "]"
        self.write_config(CASES_CONFIG + textwrap.dedent(MAIL_CONFIG).format(port=port, to=quoted))

    def start_server(self, *args, port=0):
        server = MailServer(self.tmp / "mail", *args, port=port)
        self.addCleanup(server.stop)
        return server

    def outbox(self):
        """Rows of the outbox table: (key, recipient, state), or None before mail is wired."""
        db = self.state / "casewatch.db"
        if not db.exists():
            return None
        with sqlite3.connect(db) as connection:
            tables = {r[0] for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "outbox" not in tables:
                return None
            return connection.execute(
                "SELECT key, recipient, state FROM outbox ORDER BY id").fetchall()

    def require_mail_wired(self):
        rows = self.outbox()
        if not rows:
            self.skipTest("casewatchd --once does not queue mail yet (engine wiring pending)")
        return rows


class ReviewDelivery(MailTestCase):
    def test_the_weekly_review_is_delivered_once_and_parses_back(self):
        server = self.start_server()
        self.configure(server.port, ["head@council.example"])
        self.drop("cases_2026-11-16.csv", cases_csv())

        self.run_once("--as-of", "2026-11-16")
        self.require_mail_wired()
        self.run_once("--as-of", "2026-11-16")  # the same week again: nothing new is sent

        messages = server.messages()
        self.assertEqual(len(messages), 1)
        recipients, raw = messages[0]
        self.assertEqual(recipients, ["head@council.example"])
        parsed = inspect(raw)
        headers = parsed["headers"]
        self.assertTrue(headers["Subject"].startswith("casewatch 2026-W47: "),
                        headers["Subject"])
        self.assertEqual(headers["From"], "casewatch@council.example")
        self.assertEqual(headers["To"], "head@council.example")
        self.assertEqual(headers["Auto-Submitted"], "auto-generated")
        self.assertEqual(headers["MIME-Version"], "1.0")
        self.assertTrue(headers["Message-ID"].startswith("<casewatch.review.2026-W47.all@"))
        self.assertEqual(parsed["structure"], ["multipart/mixed", "multipart/alternative",
                                               "text/plain", "text/html", "text/csv"])
        self.assertEqual(parsed["defects"], [])
        self.assertLessEqual(parsed["longest_line"], 998)
        self.assertFalse(parsed["bare_lf"])

        # No child's identifiers in any header.
        for value in headers.values():
            self.assertNotIn("P-A", value)
        [attachment] = parsed["attachments"]
        self.assertEqual(attachment["filename"], "casewatch-2026-W47.csv")
        lines = attachment["content"].splitlines()
        columns = lines[0].split(",")
        self.assertNotIn("person", columns)
        self.assertIn("key", columns)
        self.assertTrue(any(line.startswith("unallocated,A,") or ",A," in line
                            for line in lines[1:]), lines)
        self.assertNotIn("P-A", attachment["content"])

        # Marked sent in the outbox, exactly one entry for the route and week.
        self.assertEqual(self.outbox(), [("review/2026-W47/all", "head@council.example", "sent")])


class Outage(MailTestCase):
    def test_server_down_then_up_delivers_each_message_once(self):
        port = free_port()
        self.configure(port, ["head@council.example", "east@council.example"])
        self.drop("cases_2026-11-16.csv", cases_csv())

        self.run_once("--as-of", "2026-11-16", check=False)  # nothing listens on the port
        rows = self.require_mail_wired()
        self.assertEqual({r[2] for r in rows}, {"pending"})

        server = self.start_server(port=port)
        # A one-shot run tries every pending entry, whatever its backoff says.
        self.run_once("--as-of", "2026-11-16")
        self.run_once("--as-of", "2026-11-16")

        got = sorted(r for rcpt, _ in server.messages() for r in rcpt)
        self.assertEqual(got, ["east@council.example", "head@council.example"])
        self.assertEqual({r[2] for r in self.outbox()}, {"sent"})


class KilledInsideTheWindow(MailTestCase):
    def test_a_message_accepted_before_a_kill_is_sent_again_with_the_same_message_id(self):
        # The server SIGKILLs casewatchd once it has stored the message, before answering 250:
        # accepted, not yet marked sent, the window daemon/policy/outbox.h documents.
        pidfile = self.tmp / "casewatchd.pid"
        server = self.start_server("--kill-after-store", str(pidfile))
        self.configure(server.port, ["head@council.example"])
        self.drop("cases_2026-11-16.csv", cases_csv())

        def write_pid():  # in the child before exec: casewatchd's own pid
            pidfile.write_text(str(os.getpid()))

        killed = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--once",
                                 "--as-of", "2026-11-16"], capture_output=True, text=True,
                                timeout=300, preexec_fn=write_pid)
        self.assertEqual(killed.returncode, -signal.SIGKILL, killed.stderr)
        self.assertFalse(pidfile.exists())
        self.assertEqual(len(server.messages()), 1)
        self.assertEqual(self.outbox(), [("review/2026-W47/all", "head@council.example",
                                          "pending")])
        with sqlite3.connect(self.state / "casewatch.db") as db:
            (sending_since,) = db.execute("SELECT sending_since FROM outbox").fetchone()
        self.assertIsNotNone(sending_since)

        again = self.run_once("--as-of", "2026-11-16")
        messages = server.messages()
        self.assertEqual(len(messages), 2)
        self.assertEqual(messages[0][1], messages[1][1])  # byte for byte: the same Message-ID
        message_id = inspect(messages[0][1])["headers"]["Message-ID"]
        self.assertTrue(message_id.startswith("<casewatch.review.2026-W47.all@"), message_id)
        self.assertIn("casewatch stopped while sending it to head@council.example", again.stderr)
        self.assertIn(f"It is sent again with the same Message-ID {message_id}, so a mail "
                      "system that deduplicates on Message-ID shows it once", again.stderr)
        self.assertEqual(self.outbox(), [("review/2026-W47/all", "head@council.example",
                                          "sent")])
        # The window itself, as the sender measured it: from the server's 250 to "sent" stored.
        window = re.search(r"mail: 1 sent; each was recorded as sent ([0-9.]+) ms \(median; at "
                           r"most ([0-9.]+) ms\) after the server accepted it", again.stderr)
        self.assertIsNotNone(window, again.stderr)
        print(f"\n  accept-to-recorded window: {window.group(2)} ms", file=sys.stderr)

        self.run_once("--as-of", "2026-11-16")
        self.assertEqual(len(server.messages()), 2)  # sent: never again


class Rejection(MailTestCase):
    def test_a_5xx_recipient_is_failed_and_the_others_still_get_the_review(self):
        server = self.start_server("--reject", "gone@council.example")
        self.configure(server.port, ["gone@council.example", "head@council.example"])
        self.drop("cases_2026-11-16.csv", cases_csv())

        self.run_once("--as-of", "2026-11-16", check=False)
        self.require_mail_wired()

        self.assertEqual([r for rcpt, _ in server.messages() for r in rcpt],
                         ["head@council.example"])
        states = {recipient: state for _, recipient, state in self.outbox()}
        self.assertEqual(states, {"gone@council.example": "failed",
                                  "head@council.example": "sent"})


ALERT_RULE = """
alert_over = 0
"""


def cases_resolved_csv():
    """The next day's extract: A is allocated, so nothing is unallocated over 28 days."""
    rows = [
        "A,P-A,Team A,K Jones,01/10/2026,,Open,17/11/2026,",
        "B,P-B,Team A,,09/11/2026,,Open,,",
        "C,P-C,Team B,J Smith,01/10/2026,,Open,02/10/2026,",
    ]
    return "\r\n".join([CASE_HEADER, *rows]) + "\r\n"


class Alerts(MailTestCase):
    def configure_alerting(self, port):
        # alert_over belongs to the [[rule]] table, which CASES_CONFIG ends with.
        text = CASES_CONFIG + ALERT_RULE + textwrap.dedent(MAIL_CONFIG).format(
            port=port, to='["head@council.example"]')
        self.write_config(text)

    def subjects(self, server):
        return [inspect(raw)["headers"]["Subject"] for _, raw in server.messages()]

    def test_an_alert_fires_once_is_not_repeated_within_the_interval_and_resolves(self):
        server = self.start_server()
        self.configure_alerting(server.port)
        self.drop("cases_2026-11-16.csv", cases_csv())

        self.run_once("--as-of", "2026-11-16")
        self.require_mail_wired()
        alerts = [s for s in self.subjects(server) if not s.startswith("casewatch 2026-W")]
        self.assertEqual(alerts, ["casewatch: unallocated: 1 on the list, over the alert level "
                                  "of 0 (all)"])

        # The condition still holds, well within repeat_interval (24 h): nothing more is sent.
        self.run_once("--as-of", "2026-11-16")
        self.assertEqual(len(server.messages()), 2)

        # The next extract allocates A: the alert resolves, and the resolved notice goes out once.
        self.drop("cases_2026-11-17.csv", cases_resolved_csv())
        self.run_once("--as-of", "2026-11-17")
        self.run_once("--as-of", "2026-11-17")
        subjects = self.subjects(server)
        self.assertEqual(len(subjects), 3, subjects)
        self.assertEqual(subjects[2], "casewatch: resolved: unallocated: 1 on the list, over the "
                                      "alert level of 0 (all)")
        # No child's identifiers in any alert.
        for _, raw in server.messages()[1:]:
            self.assertNotIn(b"P-A", raw)
        self.assertEqual({state for _, _, state in self.outbox()}, {"sent"})


class ServiceSender(MailTestCase):
    """casewatchd as a service delivers from the outbox by itself (no --once)."""

    def start_service(self):
        log = open(self.tmp / "casewatchd.log", "ab")
        self.addCleanup(log.close)
        process = subprocess.Popen([str(CASEWATCHD), "--config", str(self.config)],
                                   stdout=log, stderr=subprocess.STDOUT)

        def stop():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
        self.addCleanup(stop)
        self.socket_path = self.state / "control.sock"
        self.wait_for(lambda: self.socket_path.exists() and self.ask("status") is not None,
                      "the control socket", process)
        return process

    def ask(self, command, arguments=None):
        request = {"command": command}
        if arguments is not None:
            request["arguments"] = arguments
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(30)
                s.connect(str(self.socket_path))
                s.sendall((json.dumps(request) + "\n").encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                return json.loads(data)
        except OSError:
            return None

    def wait_for(self, condition, what, process=None, deadline=60.0):
        give_up = time.monotonic() + deadline
        while time.monotonic() < give_up:
            if process is not None and process.poll() is not None:
                self.fail(f"casewatchd exited {process.returncode}: "
                          f"{(self.tmp / 'casewatchd.log').read_text(errors='replace')}")
            value = condition()
            if value:
                return value
            time.sleep(0.05)  # a poll interval, not a wait for something to happen
        self.fail(f"timed out waiting for {what}: "
                  f"{(self.tmp / 'casewatchd.log').read_text(errors='replace')}")

    def test_the_daemon_delivers_a_queued_message_once_without_once(self):
        port = free_port()
        self.configure(port, ["head@council.example"])
        self.drop("cases_2026-11-16.csv", cases_csv())
        today = datetime.date.today().isoformat()  # the daemon's own week: no late review
        self.run_once("--as-of", today, check=False)  # nothing listens: the review stays queued
        [(key, _, state)] = self.require_mail_wired()
        self.assertEqual(state, "pending")

        server = self.start_server(port=port)
        process = self.start_service()
        entries = self.ask("outbox")["arguments"]["entries"]
        self.assertEqual([(e["key"], e["state"], e["attempts"]) for e in entries],
                         [(key, "pending", 1)])
        # Its backoff says five minutes; an operator asks for it now.
        client = subprocess.run([str(CASEWATCHD.parent / "casewatch"), "--socket",
                                 str(self.socket_path), "outbox", "retry", str(entries[0]["id"])],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(client.stdout, f"outbox entry {entries[0]['id']} is pending\n")

        self.wait_for(lambda: self.ask("outbox", {"state": "sent"})["result"] == 0,
                      "the sender to deliver the review", process)
        self.assertEqual(len(server.messages()), 1)
        [(recipients, raw)] = server.messages()
        self.assertEqual(recipients, ["head@council.example"])
        self.assertEqual(inspect(raw)["defects"], [])
        self.assertEqual(self.outbox(), [(key, "head@council.example", "sent")])
        # The accept-to-recorded window of that message, in the metrics.
        metrics = subprocess.run([str(CASEWATCHD.parent / "casewatch"), "--socket",
                                  str(self.socket_path), "metrics"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(metrics.returncode, 0, metrics.stderr)
        self.assertIn("casewatch_mail_accept_to_recorded_seconds_count 1\n", metrics.stdout)
        self.assertIn('casewatch_mail_accept_to_recorded_seconds_bucket{le="+Inf"} 1\n',
                      metrics.stdout)
        longest = re.search(r"^casewatch_mail_accept_to_recorded_max_seconds (\S+)$",
                            metrics.stdout, re.M)
        self.assertTrue(longest and 0 < float(longest.group(1)) < 5, metrics.stdout)
        process.terminate()
        self.assertEqual(process.wait(timeout=60), 0)
        self.assertEqual(len(server.messages()), 1)


if __name__ == "__main__":
    unittest.main()
