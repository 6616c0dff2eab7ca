"""What an operations team runs against the service: Prometheus scraping over HTTP, backups
while it ingests, restores that refuse a running service, and retention of extract files."""
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from once_support import CASE_HEADER, CASEWATCHD, OnceTestCase
from service_daemon import Daemon, binaries_missing, cases_csv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def integrity(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


class ServiceOperationsTest(unittest.TestCase):
    def setUp(self):
        if binaries_missing():
            self.fail("casewatchd or casewatch is not built")

    def daemon_with_metrics(self):
        daemon = Daemon()
        self.port = free_port()
        with open(daemon.config, "a", encoding="utf-8") as f:
            f.write(f'\n[metrics]\nlisten = "127.0.0.1:{self.port}"\n')
        return daemon

    def test_metrics_are_scraped_over_http_and_pass_promtool(self):
        with self.daemon_with_metrics() as daemon:
            daemon.drop("cases_2026-11-23.csv", cases_csv(5))
            daemon.wait_ingested("cases_2026-11-23.csv")
            url = f"http://127.0.0.1:{self.port}/metrics"
            with urllib.request.urlopen(url, timeout=30) as response:
                self.assertEqual(response.status, 200)
                self.assertIn("version=0.0.4", response.headers["Content-Type"])
                body = response.read().decode()
            self.assertIn("casewatch_", body)
            self.assertTrue(body.endswith("\n"))
            # The figures an admin alerts on (issue 13).
            for series in ['casewatch_extracts_total{source="cases",status="ingested"} 1\n',
                           'casewatch_alerts_firing{kind="escalation"} 0\n',
                           'casewatch_alerts_firing{kind="delivery_failing"} 0\n',
                           'casewatch_outbox_messages{state="pending"} 0\n',
                           'casewatch_extract_ingest_age_seconds{source="cases"} ',
                           'casewatch_extract_as_of_age_seconds{source="cases"} ',
                           'casewatch_extract_age_seconds{source="cases"} ']:
                self.assertIn(series, body)
            with self.assertRaises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=30)
            self.assertEqual(caught.exception.code, 404)
            if shutil.which("promtool") is None:
                self.skipTest("promtool (Debian package prometheus) is not installed")
            check = subprocess.run(["promtool", "check", "metrics"], input=body,
                                   capture_output=True, text=True, timeout=60)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_backup_during_an_ingest_is_whole_and_restore_refuses_the_running_service(self):
        with Daemon() as daemon:
            daemon.drop("cases_2026-11-16.csv", cases_csv(2000))
            daemon.wait_ingested("cases_2026-11-16.csv")
            # A large extract: the backup is asked for while it is being ingested.
            daemon.drop("cases_2026-11-23.csv", cases_csv(30000))
            backup = daemon.client("backup", "during-ingest.db")
            self.assertEqual(backup.returncode, 0, backup.stderr)
            copy = os.path.join(daemon.state, "backups", "during-ingest.db")
            self.assertIn(f"backup written to {copy}", backup.stdout)
            self.assertEqual(integrity(copy), "ok")
            self.assertEqual(os.stat(copy).st_mode & 0o777, 0o640)
            with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as db:
                files = [row[0] for row in db.execute("SELECT file FROM extracts")]
            self.assertIn("cases_2026-11-16.csv", files)
            daemon.wait_ingested("cases_2026-11-23.csv")

            database = os.path.join(daemon.state, "casewatch.db")
            before = os.stat(database)
            refused = subprocess.run(
                [CASEWATCHD, "--config", daemon.config, "--restore", copy],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
            self.assertIn("casewatchd is running", refused.stderr)
            self.assertEqual(os.stat(database).st_ino, before.st_ino)
            self.assertEqual(daemon.stop(), 0)

            restored = subprocess.run(
                [CASEWATCHD, "--config", daemon.config, "--restore", copy],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(restored.returncode, 0, restored.stderr)
            self.assertEqual(integrity(database), "ok")
            self.assertTrue(os.path.exists(database + ".before-restore"))
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                files = [row[0] for row in db.execute("SELECT file FROM extracts")]
            self.assertIn("cases_2026-11-16.csv", files)

    def test_backup_needs_the_admin_permission(self):
        if os.geteuid() != 0:
            self.skipTest("running as another user needs root")
        with Daemon(group="nogroup") as daemon:
            refused = daemon.client("backup", "x.db", user="nobody")
            self.assertNotEqual(refused.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(daemon.state, "backups", "x.db")))


DAY = 24 * 3600


class RetentionTest(OnceTestCase):
    config_text = OnceTestCase.config_text + '\n[retention]\narchive_days = 30\n'

    def place(self, folder, name, age_days):
        path = self.state / folder / name
        path.parent.mkdir(mode=0o750, exist_ok=True)
        path.write_text(CASE_HEADER + "\n", encoding="utf-8")
        when = time.time() - age_days * DAY
        os.utime(path, (when, when))
        return path

    def test_retention_deletes_exactly_the_extract_files_past_their_age(self):
        rows = "C1,P1,North,,01/09/2026,,Open,,\n"
        self.drop("cases_2026-11-16.csv", CASE_HEADER + "\n" + rows)
        self.run_once("--as-of", "2026-11-16")
        kept_new = self.state / "archive" / "cases_2026-11-16.csv"
        self.assertTrue(kept_new.exists())
        old_archived = self.place("archive", "cases_2026-08-01.csv", 31)
        young_archived = self.place("archive", "cases_2026-10-30.csv", 29)
        old_rejected = self.place("rejected", "cases_2026-07-01.csv", 45)
        old_reason = self.place("rejected", "cases_2026-07-01.csv.reason.txt", 45)
        unmatched = self.place("archive", "staff_2026-01-01.csv", 400)

        self.drop("cases_2026-11-23.csv", CASE_HEADER + "\n" + rows +
                  "C2,P2,North,,01/10/2026,,Open,,\n")
        self.run_once("--as-of", "2026-11-23")

        self.assertFalse(old_archived.exists())
        self.assertFalse(old_rejected.exists())
        self.assertFalse(old_reason.exists())
        for kept in [young_archived, unmatched, kept_new,
                     self.state / "archive" / "cases_2026-11-23.csv"]:
            self.assertTrue(kept.exists(), kept)

    def test_nothing_is_deleted_before_a_later_extract_is_ingested(self):
        old = self.place("archive", "cases_2026-08-01.csv", 100)
        self.run_once("--as-of", "2026-11-16")
        self.assertTrue(old.exists())


if __name__ == "__main__":
    unittest.main()
