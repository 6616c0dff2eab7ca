"""End-to-end: the weekly review reaches a REAL SMTP server on loopback (Debian's
python3-aiosmtpd, started by the test on a free port) from `casewatchd --once`, parsed back with
Python's `email` package: headers, parts, the allow-listed CSV. Server down, then up: each
message delivered once. A 5xx recipient does not stop the others and is recorded as failed.

These tests need `casewatchd --once` to queue and deliver mail. Until the engine does, they skip
(and say so); once any mail is queued in the outbox, they fail for real on any discrepancy.
STARTTLS with a self-signed certificate, authentication and the temporary/permanent sorting of
failures are tested against the same server in tests/daemon/mailer_test.cpp (SmtpMailer).
"""
import email
import email.policy
import os
import pathlib
import socket
import sqlite3
import subprocess
import sys
import textwrap
import unittest

from once_support import CASE_HEADER, CASES_CONFIG, OnceTestCase

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
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=open(self.folder / "server.log", "ab"))
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

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


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
        self.assertTrue(headers["Subject"].startswith("casewatch weekly review 2026-W47: "),
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


if __name__ == "__main__":
    unittest.main()
