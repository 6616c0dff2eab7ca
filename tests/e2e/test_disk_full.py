"""casewatchd --once, and casewatchd as a service, on a state folder that fills up in the middle
of a run (SQLite's
"database or disk is full" while it ingests an extract) or is mounted read-only: a clear error
(the extract, the step and the database; or the folder), exit status 1, nothing half-written
(the database passes its integrity check and holds none of the extract, the extract stays in the
inbox, nothing is archived or left as a temporary file), and the next run, once there is space
or the mount is writable again, ingests and evaluates everything. The service keeps answering
`status` on its socket (which is not on the full folder) while its cycles fail, says why there,
and its next cycle after space is freed completes.

The state folder is a tmpfs mounted by the test (root with CAP_SYS_ADMIN, as in CI); where
mounting is not permitted the tests skip, saying why."""
import contextlib
import os
import pathlib
import sqlite3
import subprocess
import unittest

from once_support import CASE_HEADER, OnceTestCase
from service_daemon import Daemon, binaries_missing, wait_for


def cases_csv(first, count):
    """`count` open, unallocated cases numbered from `first`: about 80 bytes a row."""
    rows = [CASE_HEADER]
    for n in range(first, first + count):
        rows.append(f"C{n:07d},P{n:07d},Team {n % 7},,01/09/2026,,Open,,")
    return "\n".join(rows) + "\n"


class StateOnTmpfs(OnceTestCase):
    tmpfs_size = "8m"

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
        self.inbox.rmdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.tmpfs_size},mode=0750",
                                  "tmpfs", str(self.state)], capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs on {self.state}: {mounted.stderr.strip()}")
        self.addCleanup(subprocess.run, ["umount", "-l", str(self.state)], check=False)
        self.inbox.mkdir(mode=0o750)

    def remount(self, options):
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.state)], check=True)

    def database(self):
        # Closed on leaving the block: an open database on the tmpfs would keep it from
        # being remounted read-only.
        return contextlib.closing(
            sqlite3.connect(f"file:{self.state / 'casewatch.db'}?mode=ro", uri=True))

    def ingested_files(self):
        with self.database() as db:
            return sorted(pathlib.Path(name).name for (name,) in db.execute(
                "SELECT file FROM extracts WHERE status = 'ingested'"))

    def open_keys(self):
        summary = self.run_json("--as-of", "2026-11-23")
        return {f["key"] for f in summary["findings"] if f["rule"] == "unallocated"}

    def assert_nothing_half_written(self, stuck):
        with self.database() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(self.ingested_files(), ["cases_2026-11-16.csv"])
        self.assertTrue((self.inbox / stuck).exists(), "the extract stays in the inbox")
        archive = self.state / "archive"
        self.assertEqual(sorted(p.name for p in archive.iterdir()), ["cases_2026-11-16.csv"])
        leftovers = [p for p in self.state.rglob("*") if p.name.endswith(".tmp")]
        self.assertEqual(leftovers, [])

    def first_run(self):
        self.drop("cases_2026-11-16.csv", cases_csv(1, 50))
        self.run_once("--as-of", "2026-11-16")
        self.assertEqual(self.ingested_files(), ["cases_2026-11-16.csv"])


class DiskFullTest(StateOnTmpfs):
    def test_a_full_state_folder_stops_the_run_clearly_and_the_next_run_recovers(self):
        self.first_run()
        # 0.9 MB of extract, which fits; its rows and history in the database (about 11 MB, and
        # the WAL besides) do not.
        self.drop("cases_2026-11-23.csv", cases_csv(1, 20000))
        used = sum(p.stat().st_size for p in self.state.rglob("*") if p.is_file())
        self.remount(f"size={used + 2 * 1024 * 1024}")

        failed = self.run_once("--as-of", "2026-11-23", check=False)
        self.assertEqual(failed.returncode, 1, failed.stderr)
        database = self.state / "casewatch.db"
        self.assertIn(f"cases_2026-11-23.csv: ingest failed (database {database})",
                      failed.stderr)
        self.assertIn("database or disk is full", failed.stderr)
        self.assert_nothing_half_written("cases_2026-11-23.csv")

        self.remount("size=64m")
        self.run_once("--as-of", "2026-11-23")
        self.assertEqual(self.ingested_files(), ["cases_2026-11-16.csv", "cases_2026-11-23.csv"])
        self.assertFalse((self.inbox / "cases_2026-11-23.csv").exists())
        keys = self.open_keys()
        self.assertEqual(len(keys), 20000)  # every case of the extract, evaluated
        self.assertIn("C0019999", keys)


class ReadOnlyTest(StateOnTmpfs):
    def test_a_read_only_state_folder_stops_the_run_clearly_and_the_next_run_recovers(self):
        self.first_run()
        self.drop("cases_2026-11-23.csv", cases_csv(1, 200))
        self.remount("ro")
        self.addCleanup(subprocess.run, ["mount", "-o", "remount,rw", str(self.state)],
                        check=False)

        failed = self.run_once("--as-of", "2026-11-23", check=False)
        self.assertEqual(failed.returncode, 1, failed.stderr)
        # Found before anything is read: the check of the state folder at start-up.
        self.assertEqual(failed.stderr,
                         f"casewatchd: folder {self.state} is not writable: Read-only file system\n")
        self.assert_nothing_half_written("cases_2026-11-23.csv")

        self.remount("rw")
        self.run_once("--as-of", "2026-11-23")
        self.assertEqual(self.ingested_files(), ["cases_2026-11-16.csv", "cases_2026-11-23.csv"])
        self.assertEqual(len(self.open_keys()), 200)


class DaemonDiskFullTest(unittest.TestCase):
    def setUp(self):
        if binaries_missing():
            self.skipTest("casewatchd and casewatch are not built (CASEWATCH_BUILD_DIR)")
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
        self.daemon = Daemon()
        self.state = pathlib.Path(self.daemon.state)
        self.state.mkdir(mode=0o750)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0750", "tmpfs",
                                  str(self.state)], capture_output=True, text=True)
        if mounted.returncode != 0:
            self.daemon.__exit__(None, None, None)
            self.skipTest(f"cannot mount a tmpfs on {self.state}: {mounted.stderr.strip()}")
        # Cleanups run last in, first out: the daemon stops before the tmpfs goes.
        self.addCleanup(subprocess.run, ["umount", "-l", str(self.state)], check=False)
        self.addCleanup(self.daemon.__exit__, None, None, None)

    def remount(self, options):
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.state)], check=True)

    def database(self):
        return contextlib.closing(
            sqlite3.connect(f"file:{self.state / 'casewatch.db'}?mode=ro", uri=True))

    def drop(self, name, text):
        """Written beside the inbox on the same tmpfs, then renamed in."""
        staging = self.state / f".{name}"
        staging.write_text(text)
        staging.rename(self.state / "inbox" / name)

    def test_the_service_keeps_answering_while_its_cycles_fail_and_recovers_with_space(self):
        daemon = self.daemon.start()
        self.drop("cases_2026-11-16.csv", cases_csv(1, 50))
        daemon.wait_ingested("cases_2026-11-16.csv")

        # As in DiskFullTest: the extract fits, its rows in the database do not.
        extract = cases_csv(1, 20000)
        used = sum(p.stat().st_size for p in self.state.rglob("*") if p.is_file())
        self.remount(f"size={used + len(extract) + 256 * 1024}")
        self.drop("cases_2026-11-23.csv", extract)
        failed = wait_for(lambda: (lambda s: s if s["last_cycle_error"] else None)(
            daemon.ask("status")["arguments"]), "a cycle to fail")
        database = self.state / "casewatch.db"
        self.assertIn(f"cases_2026-11-23.csv: ingest failed (database {database})",
                      failed["last_cycle_error"])
        self.assertIn("database or disk is full", failed["last_cycle_error"])
        self.assertEqual([s["file"] for s in failed["sources"]], ["cases_2026-11-16.csv"])
        self.assertIn("ingest cycle failed (retried at the next rescan): cases_2026-11-23.csv",
                      daemon.logs())
        # Still answering, on every command a person would try.
        self.assertEqual(daemon.ask("findings", {"rule": "unallocated"})["result"], 0)
        client = daemon.client("status")
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertIn("database or disk is full", client.stdout)
        # Nothing half-written: the failed extract is still in the inbox, unarchived.
        with self.database() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertEqual([r[0] for r in db.execute("SELECT count(*) FROM extracts")], [1])
        self.assertTrue((self.state / "inbox" / "cases_2026-11-23.csv").exists())
        self.assertEqual(sorted(p.name for p in (self.state / "archive").iterdir()),
                         ["cases_2026-11-16.csv"])
        self.assertEqual([p for p in self.state.rglob("*") if p.name.endswith(".tmp")], [])

        self.remount("size=64m")
        recovered = daemon.wait_ingested("cases_2026-11-23.csv")
        self.assertIsNone(recovered["last_cycle_error"])
        self.assertEqual([s["rows"] for s in recovered["sources"]], [20000])
        findings = daemon.ask("findings", {"rule": "unallocated"})["arguments"]
        self.assertEqual(findings["total"], 20000)  # every case of the extract, evaluated
        self.assertFalse((self.state / "inbox" / "cases_2026-11-23.csv").exists())
        self.assertIsNone(daemon.process.poll())


if __name__ == "__main__":
    unittest.main()
