"""End-to-end: alerts people keep switched on (issue 13), against a REAL SMTP server on loopback
(tests/e2e/mail_smtp_server.py) from `casewatchd --once` and `--deliver`.

200 cases crossing escalate_after in one cycle give one message per route; the reminder after
repeat_interval is one message; an operations route gets the rejected-extract and
delivery-failing alerts and no review; a second rejected file does not resolve the first; a
stale source inhibits escalation; --once with the server down exits 75 and a later --deliver
with the server up exits 0, each message delivered once.
"""
import datetime
import os
import sqlite3
import subprocess
import textwrap
import time
import unittest

from once_support import CASE_HEADER, CASES_CONFIG, CASEWATCHD
from mail_inspect import inspect
from service_daemon import Daemon, binaries_missing, cases_csv
from test_mail import MailTestCase, free_port

MAIL = """
[mail]
server = "smtp://127.0.0.1:{port}"
tls = "none"
from = "casewatch@council.example"
allowed_domains = ["council.example"]
repeat_interval = "1h"
"""

ROUTES = """
[[route]]
name = "all"
to = ["head@council.example"]

[[route]]
name = "Team A"
to = ["team-a@council.example"]
teams = ["Team A"]

[[route]]
name = "ops"
to = ["ops@council.example"]
reviews = false
"""


def unallocated_cases(n, referral="01/08/2026", version=0):
    """n open unallocated cases, half in Team A and half in Team B, referred on `referral`, and
    one allocated case whose id holds `version` (so that each version is a new file's content:
    casewatch never ingests the same bytes twice)."""
    rows = [f"K{i:04d},P-{i:04d},Team {'A' if i % 2 else 'B'},,{referral},,Open,,"
            for i in range(1, n + 1)]
    rows.append(f"V{version},P-V,Team B,J Smith,01/10/2026,,Open,02/10/2026,")
    return "\r\n".join([CASE_HEADER, *rows]) + "\r\n"


def backdate(db, sql, hours):
    """Moves a stored UTC time `hours` into the past: sql has one ? for the new time."""
    when = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours))
    with sqlite3.connect(db) as connection:
        connection.execute(sql, (when.strftime("%Y-%m-%dT%H:%M:%SZ"),))


class AlertMail(MailTestCase):
    def configure_alerts(self, port, rule_keys="", source_keys="", routes=ROUTES):
        # CASES_CONFIG ends with the [[rule]] table; the source's keys go after its `files`.
        config = CASES_CONFIG.replace('files = "cases*.csv"\n',
                                      'files = "cases*.csv"\n' + source_keys)
        self.write_config(config + rule_keys + textwrap.dedent(MAIL).format(port=port) + routes)

    def received(self, server):
        """[(recipient, subject)] in the order received, one per recipient."""
        out = []
        for recipients, raw in server.messages():
            subject = inspect(raw)["headers"]["Subject"]
            out.extend((r, subject) for r in recipients)
        return out

    def alerts(self, server):
        return [(r, s) for r, s in self.received(server) if not s.startswith("casewatch 2026-W")]

    def alert_rows(self):
        with sqlite3.connect(self.state / "casewatch.db") as connection:
            return connection.execute(
                "SELECT kind, scope, status FROM alerts ORDER BY fingerprint").fetchall()

    def test_200_cases_crossing_escalate_after_give_one_message_per_route_and_one_reminder(self):
        server = self.start_server()
        self.configure_alerts(server.port, 'escalate_after = "8w"\n')
        self.drop("cases_2026-11-16.csv", unallocated_cases(200))

        self.run_once("--as-of", "2026-11-16")

        self.assertEqual(sorted(self.alerts(server)), [
            ("head@council.example", "casewatch: 200 cases newly past 8 weeks unallocated (all)"),
            ("team-a@council.example",
             "casewatch: 100 cases newly past 8 weeks unallocated (Team A)"),
        ])
        # The digest lists each case once, through the allowed fields: keys, no person ids.
        [raw] = [raw for rcpt, raw in server.messages() if rcpt == ["head@council.example"]
                 and b"newly past" in raw]
        body = inspect(raw)["text"]
        self.assertEqual(sum(f"K{i:04d}" in body for i in range(1, 201)), 200)
        self.assertNotIn("P-0001", body)
        self.assertNotIn(b"P-0001", raw)
        # Nothing for the operations route: no operator alert, and never a review.
        self.assertNotIn("ops@council.example", [r for r, _ in self.received(server)])

        # Within repeat_interval nothing more; once it has passed, one reminder per route.
        self.run_once("--as-of", "2026-11-16")
        self.assertEqual(len(self.alerts(server)), 2)
        backdate(self.state / "casewatch.db", "UPDATE alerts SET last_notified = ?", 2)
        self.run_once("--as-of", "2026-11-16")
        reminders = self.alerts(server)[2:]
        self.assertEqual(sorted(reminders), [
            ("head@council.example", "casewatch: 200 cases still past 8 weeks unallocated (all)"),
            ("team-a@council.example",
             "casewatch: 100 cases still past 8 weeks unallocated (Team A)"),
        ])

    def test_the_operations_route_gets_rejections_and_delivery_failures_and_no_review(self):
        server = self.start_server("--reject", "gone@council.example")
        routes = ROUTES.replace('to = ["head@council.example"]',
                                'to = ["head@council.example", "gone@council.example"]')
        self.configure_alerts(server.port, routes=routes)
        self.drop("cases_2026-11-16.csv", unallocated_cases(4))
        self.drop("cases_2026-11-17.csv", "no,header,here\r\n1,2,3\r\n")

        self.run_once("--as-of", "2026-11-17", check=False)  # gone@ is refused: failed
        self.run_once("--as-of", "2026-11-17")  # the failure is now an alert

        ops = [s for r, s in self.received(server) if r == "ops@council.example"]
        self.assertEqual(ops, ["casewatch operations: a cases extract was rejected (ops)",
                               "casewatch operations: mail cannot be delivered (ops)"])
        heads = [s for r, s in self.received(server) if r == "head@council.example"]
        self.assertEqual(len(heads), 1)
        self.assertTrue(heads[0].startswith("casewatch 2026-W47"), heads)
        [raw] = [raw for rcpt, raw in server.messages() if rcpt == ["ops@council.example"]
                 and b"cases_2026-11-17.csv" in raw]
        body = inspect(raw)["text"]
        self.assertIn("cases_2026-11-17.csv", body)
        self.assertNotIn("K0001", body)

    def test_a_second_rejected_file_does_not_resolve_the_first_and_an_ingest_resolves_both(self):
        server = self.start_server()
        self.configure_alerts(server.port)
        self.drop("cases_2026-11-16.csv", unallocated_cases(4))
        self.drop("cases_2026-11-17.csv", "no,header,here\r\n1,2,3\r\n")
        self.run_once("--as-of", "2026-11-17")
        self.drop("cases_2026-11-18.csv", "still,no,header\r\n1,2,3\r\n")
        self.run_once("--as-of", "2026-11-18")

        rejected = [(scope, status) for kind, scope, status in self.alert_rows()
                    if kind == "rejected_extract"]
        self.assertEqual(rejected, [("cases_2026-11-17.csv", "firing"),
                                    ("cases_2026-11-18.csv", "firing")])
        ops = [s for r, s in self.received(server) if r == "ops@council.example"]
        self.assertEqual(ops, ["casewatch operations: a cases extract was rejected (ops)"] * 2)

        self.drop("cases_2026-11-19.csv", unallocated_cases(4, version=1))
        self.run_once("--as-of", "2026-11-19")
        self.assertEqual({status for kind, _, status in self.alert_rows()
                          if kind == "rejected_extract"}, {"resolved"})
        ops = [s for r, s in self.received(server) if r == "ops@council.example"]
        self.assertEqual(ops[2], "casewatch operations: resolved: a cases extract was rejected "
                                 "(2) (ops)")

    def test_a_stale_source_inhibits_escalation_until_a_fresh_extract(self):
        server = self.start_server()
        self.configure_alerts(server.port, source_keys='max_age = "1h"\n')
        self.drop("cases_2026-11-16.csv", unallocated_cases(4))
        self.run_once("--as-of", "2026-11-16")
        self.assertEqual(self.alerts(server), [])

        # The extract is 3 hours old, and escalation is turned on: the list is old news.
        backdate(self.state / "casewatch.db", "UPDATE extracts SET handled_at = ?", 3)
        self.configure_alerts(server.port, 'escalate_after = "8w"\n', source_keys='max_age = "1h"\n')
        self.run_once("--as-of", "2026-11-16")
        self.assertEqual(self.alerts(server), [
            ("ops@council.example", "casewatch operations: no new cases extract for over 1 "
                                    "hour (ops)")])
        self.assertIn(("escalation", "K0001", "firing"), self.alert_rows())

        # A fresh extract: the stale alert resolves and the escalations are told.
        self.drop("cases_2026-11-17.csv", unallocated_cases(4, version=1))
        self.run_once("--as-of", "2026-11-17")
        told = sorted(self.alerts(server)[1:])
        self.assertEqual(told, [
            ("head@council.example", "casewatch: 4 cases newly past 8 weeks unallocated (all)"),
            ("ops@council.example", "casewatch operations: resolved: no new cases extract for "
                                    "over 1 hour (ops)"),
            ("team-a@council.example",
             "casewatch: 2 cases newly past 8 weeks unallocated (Team A)"),
        ])

    def test_a_file_no_source_reads_alerts_the_operations_route(self):
        server = self.start_server()
        self.configure_alerts(server.port)
        self.drop("cases_2026-11-16.csv", unallocated_cases(4))
        stray = self.drop("Cases Nov.xlsx", b"PK not really a workbook")
        an_hour_ago = time.time() - 3600
        os.utime(stray, (an_hour_ago, an_hour_ago))

        self.run_once("--as-of", "2026-11-16")

        ops = [s for r, s in self.received(server) if r == "ops@council.example"]
        self.assertEqual(ops, ["casewatch operations: a file in the inbox matches no source (ops)"])
        self.assertIn(("unmatched_file", "Cases Nov.xlsx", "firing"), self.alert_rows())
        stray.unlink()
        self.run_once("--as-of", "2026-11-16")
        self.assertIn(("unmatched_file", "Cases Nov.xlsx", "resolved"), self.alert_rows())

    def test_once_exits_75_while_mail_waits_and_deliver_sends_each_message_once(self):
        port = free_port()
        self.configure_alerts(port, 'escalate_after = "8w"\n')
        self.drop("cases_2026-11-16.csv", unallocated_cases(4))

        down = self.run_once("--as-of", "2026-11-16", check=False)  # nothing listens
        self.assertEqual(down.returncode, 75, down.stderr)
        self.assertIn("4 messages still wait to be delivered", down.stderr)

        deliver = [str(CASEWATCHD), "--config", str(self.config), "--deliver"]
        still_down = subprocess.run(deliver, capture_output=True, text=True, timeout=120)
        self.assertEqual(still_down.returncode, 75, still_down.stdout + still_down.stderr)

        server = self.start_server(port=port)
        up = subprocess.run(deliver, capture_output=True, text=True, timeout=120)
        self.assertEqual(up.returncode, 0, up.stdout + up.stderr)
        self.assertIn("delivered 4 of 4 pending messages", up.stdout)
        again = subprocess.run(deliver, capture_output=True, text=True, timeout=120)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("delivered 0 of 0 pending messages", again.stdout)

        got = sorted(self.received(server))
        self.assertEqual(len(got), 4, got)  # two reviews, two digests: each once
        self.assertEqual(len(set(got)), 4)
        self.assertEqual({r for r, _ in got}, {"head@council.example", "team-a@council.example"})


class ClientExitCodes(unittest.TestCase):
    def setUp(self):
        if binaries_missing():
            self.fail("casewatchd or casewatch is not built")

    def test_a_case_that_is_not_found_exits_1_and_help_lists_the_exit_codes(self):
        with Daemon() as daemon:
            daemon.drop("cases_2026-11-23.csv", cases_csv(5))
            daemon.wait_ingested("cases_2026-11-23.csv")
            missing = daemon.client("case", "NO-SUCH-CASE")
            self.assertEqual(missing.returncode, 1, missing.stdout + missing.stderr)
            self.assertEqual(missing.stderr, "casewatch: no case 'NO-SUCH-CASE'\n")
            self.assertEqual(missing.stdout, "")
            usage = daemon.client("--help")
            self.assertEqual(usage.returncode, 0)
            self.assertIn("exit codes:", usage.stdout)
            self.assertIn("    69  the daemon is not running", usage.stdout)


if __name__ == "__main__":
    unittest.main()
