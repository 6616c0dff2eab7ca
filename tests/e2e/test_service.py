"""End-to-end tests of `casewatchd --config F` as a service: the real daemon, a real socket in a
temporary folder, real signals and the real `casewatch` client."""
import datetime
import itertools
import json
import os
import pwd
import signal
import socket
import sqlite3
import sys
import time
import unittest
import zoneinfo

from once_support import CASELOAD_RULE
from service_daemon import (CASEWATCH, HEADER, Daemon, binaries_missing, cases_csv, read_line,
                            wait_for)


def setUpModule():
    if binaries_missing():
        raise unittest.SkipTest("casewatchd and casewatch are not built (CASEWATCH_BUILD_DIR)")


class ServiceTest(unittest.TestCase):
    def test_extract_renamed_into_the_inbox_is_ingested_and_its_findings_answered(self):
        with Daemon() as daemon:
            daemon.drop("cases_2026-11-20.csv", cases_csv(3))
            status = daemon.wait_ingested("cases_2026-11-20.csv")
            self.assertEqual(status["sources"][0]["rows"], 3)
            reply = daemon.ask("findings", {"rule": "unallocated"}, id=42)
            self.assertEqual(reply["result"], 0)
            self.assertEqual(reply["id"], 42)
            self.assertEqual(reply["text"], "3 findings")
            self.assertEqual(sorted(f["key"] for f in reply["arguments"]["findings"]),
                             ["C0000000", "C0000001", "C0000002"])
            self.assertEqual(reply["arguments"]["findings"][0]["since"], "2026-06-01")
            client = daemon.client("findings", "--rule", "unallocated")
            self.assertEqual(client.returncode, 0, client.stderr)
            self.assertIn("C0000001", client.stdout)
            metrics = daemon.client("metrics")
            self.assertIn('casewatch_extract_rows{source="cases"} 3', metrics.stdout)
            self.assertIn("casewatch_up 1", metrics.stdout)
            # status names the totals as --once and the review do, in JSON and text.
            [rule] = [r for r in daemon.ask("status")["arguments"]["rules"]
                      if r["rule"] == "unallocated"]
            self.assertEqual((rule["listed"], rule["untrusted"], rule["all_unallocated"]),
                             (3, 0, 3))
            self.assertEqual(rule["totals"], "Over four weeks (listed): 3; Untrusted dates: 0; "
                             "All unallocated open cases: 3")
            self.assertIn("unallocated: " + rule["totals"], daemon.client("status").stdout)

    def test_a_caseload_finding_carries_its_count_in_cases(self):
        with Daemon() as daemon:
            with open(daemon.config, "a", encoding="utf-8") as f:
                f.write(CASELOAD_RULE)
            self.assertEqual(daemon.ask("reload")["result"], 0)
            rows = "".join(f"C{i},P{i},North,J Smith,01/06/2026,,Open,01/06/2026,\n"
                           for i in range(3))
            daemon.drop("cases_2026-11-20.csv", HEADER + rows)
            daemon.wait_ingested("cases_2026-11-20.csv")
            reply = daemon.ask("findings", {"rule": "caseload"})
            self.assertEqual(reply["result"], 0, reply)
            [finding] = reply["arguments"]["findings"]
            self.assertEqual((finding["key"], finding["cases"]), ("J Smith", 3))
            self.assertNotIn("days", finding)
            client = daemon.client("findings", "--rule", "caseload")
            self.assertIn("3 cases", client.stdout)

    def test_after_a_reload_status_and_findings_follow_the_new_rules(self):
        with Daemon() as daemon:
            daemon.drop("cases_2026-11-20.csv", cases_csv(3))
            daemon.wait_ingested("cases_2026-11-20.csv")
            self.assertEqual(daemon.ask("findings", {"rule": "caseload"})["result"], 1)
            with open(daemon.config, "a", encoding="utf-8") as f:
                f.write(CASELOAD_RULE)
            self.assertEqual(daemon.ask("reload")["result"], 0)

            # Read again off the loop after the reload: the new rule shows once they are back.
            def rules():
                return [r["rule"] for r in daemon.ask("status")["arguments"]["rules"]]
            wait_for(lambda: "caseload" in rules(), "the new rule in status")
            self.assertIn("unallocated", rules())
            self.assertEqual(daemon.ask("findings", {"rule": "unallocated"})["text"],
                             "3 findings")
            # Known now (before the reload it was an unknown rule), with nothing on it until
            # the next extract is evaluated: the empty answer.
            self.assertEqual(daemon.ask("findings", {"rule": "caseload"})["result"], 3)

    def test_a_slowly_written_extract_is_taken_only_once_complete(self):
        with Daemon(settle="2s") as daemon:
            path = os.path.join(daemon.inbox(), "cases_2026-11-21.csv")
            text = cases_csv(5)
            half = len(text) // 2
            with open(path, "w", encoding="utf-8") as f:
                f.write(text[:half])
                f.flush()
                # The writer is still busy: several requests later nothing was taken.
                for _ in range(5):
                    self.assertEqual(daemon.ask("status")["arguments"]["cycles"], 0)
                f.write(text[half:])
            status = daemon.wait_ingested("cases_2026-11-21.csv")
            self.assertEqual(status["sources"][0]["rows"], 5)

    def test_garbage_and_unknown_commands_get_error_replies_and_the_daemon_lives_on(self):
        with Daemon() as daemon:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(daemon.socket)
                s.sendall(b"hello there\n")
                self.assertEqual(json.loads(read_line(s)),
                                 {"result": 1, "text": "not JSON: syntax error"})
                s.sendall(b'{"command": "frobnicate", "id": 1}\n')
                self.assertEqual(json.loads(read_line(s)),
                                 {"result": 2, "text": "unknown command 'frobnicate'", "id": 1})
            self.assertEqual(daemon.ask("version-get")["arguments"]["protocol"], 1)

    def test_an_oversized_line_is_refused_and_its_connection_closed(self):
        with Daemon() as daemon:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(daemon.socket)
                try:
                    s.sendall(b"x" * (70 * 1024))
                except BrokenPipeError:
                    pass
                self.assertEqual(json.loads(read_line(s)),
                                 {"result": 1, "text": "line longer than 65536 bytes"})
                try:
                    rest = s.recv(1)
                except ConnectionResetError:  # closed with our unread bytes in its buffer
                    rest = b""
                self.assertEqual(rest, b"")
            self.assertEqual(daemon.ask("status")["result"], 0)

    def test_a_half_open_connection_is_closed_after_the_idle_timeout(self):
        with Daemon(idle="1s") as daemon:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(daemon.socket)
                s.sendall(b'{"command": "sta')
                self.assertEqual(s.recv(1), b"")  # closed by the daemon, not by our timeout
            self.assertEqual(daemon.ask("status")["result"], 0)

    def test_a_broken_config_on_sighup_or_reload_keeps_the_old_one(self):
        with Daemon() as daemon:
            with open(daemon.config, encoding="utf-8") as f:
                good = f.read()
            daemon.write_config(good + "\n[[rule]]\nid = 7\n")
            daemon.process.send_signal(signal.SIGHUP)
            daemon.wait_notification("READY=1")
            wait_for(lambda: "reload failed" in daemon.logs(), "the reload failure in the log")
            reply = daemon.ask("reload")
            self.assertEqual(reply["result"], 1)
            self.assertTrue(reply["text"].startswith(
                "reload failed, the previous configuration stays: "), reply["text"])
            client = daemon.client("reload")
            self.assertEqual(client.returncode, 1)
            # The old configuration still answers.
            self.assertEqual(daemon.ask("findings", {"rule": "unallocated"})["result"], 3)
            daemon.write_config(good)
            self.assertEqual(daemon.client("reload").returncode, 0)

    def test_shutdown_command_and_sigterm_exit_zero(self):
        with Daemon() as daemon:
            reply = daemon.ask("shutdown")
            self.assertEqual(reply, {"result": 0, "text": "shutting down"})
            self.assertEqual(daemon.process.wait(timeout=30), 0)
            self.assertFalse(os.path.exists(daemon.socket))
        with Daemon() as daemon:
            self.assertEqual(daemon.stop(signal.SIGTERM), 0)

    def test_sigterm_during_an_ingest_leaves_no_partial_extract(self):
        rows = 300000
        with Daemon() as daemon:
            daemon.drop("cases_2026-11-22.csv", cases_csv(rows))
            wait_for(lambda: daemon.ask("status")["arguments"]["cycle_running"]
                     or daemon.ask("status")["arguments"]["cycles"] > 0, "the ingest to start")
            self.assertEqual(daemon.stop(signal.SIGTERM), 0)
            database = os.path.join(daemon.state, "casewatch.db")
            with sqlite3.connect(database) as db:
                extracts = db.execute("SELECT status, rows FROM extracts").fetchall()
            archived = os.path.exists(os.path.join(daemon.state, "archive"))
            in_inbox = os.path.exists(os.path.join(daemon.inbox(), "cases_2026-11-22.csv"))
            # All or nothing: either the extract is whole, or it is absent and still waiting.
            if os.environ.get("CASEWATCH_E2E_VERBOSE"):
                print(extracts, in_inbox, daemon.logs())
            if extracts:
                self.assertEqual(extracts, [("ingested", rows)])
                self.assertFalse(in_inbox)
            else:
                self.assertTrue(in_inbox)
            self.assertTrue(archived)

    def test_status_answers_while_a_note_waits_on_the_database_write_lock(self):
        with Daemon() as daemon:
            daemon.drop("cases_2026-11-20.csv", cases_csv(3))
            daemon.wait_ingested("cases_2026-11-20.csv")
            database = os.path.join(daemon.state, "casewatch.db")
            # Another connection holds the write lock, as an extract writer does for a whole
            # ingest; the note cannot be written until it ends.
            writer = sqlite3.connect(database, isolation_level=None)
            writer.execute("BEGIN IMMEDIATE")
            note = socket.socket(socket.AF_UNIX)
            note.settimeout(30)
            note.connect(daemon.socket)
            note.sendall((json.dumps({"command": "note", "arguments": {
                "rule": "unallocated", "key": "C0000001", "text": "seen"}}) + "\n").encode())
            try:
                for _ in range(3):
                    started = time.monotonic()
                    status = daemon.ask("status")
                    self.assertEqual(status["result"], 0, status)
                    # Well inside SQLite's 5 s busy timeout, which the note is waiting in.
                    self.assertLess(time.monotonic() - started, 2.0)
                    note.setblocking(False)
                    with self.assertRaises(BlockingIOError):
                        note.recv(1)  # the note has not been answered: it still waits
                    note.settimeout(30)
            finally:
                writer.rollback()
                writer.close()
            reply = json.loads(read_line(note))
            note.close()
            self.assertEqual(reply["result"], 0, reply)
            self.assertTrue(reply["text"].startswith("note recorded on unallocated C0000001"))
            findings = daemon.ask("findings", {"rule": "unallocated"})["arguments"]["findings"]
            [noted] = [f for f in findings if f["key"] == "C0000001"]
            self.assertEqual(noted["note"]["text"], "seen")

    def test_casewatchd_asks_malloc_for_huge_pages_unless_told_otherwise(self):
        """When the kernel gives transparent huge pages only to programs that ask ("[madvise]"),
        casewatchd runs itself again, the same process, with glibc.malloc.hugetlb=1 added to
        GLIBC_TUNABLES; a GLIBC_TUNABLES that names hugetlb already is left as it is."""
        try:
            with open("/sys/kernel/mm/transparent_hugepage/enabled", encoding="ascii") as f:
                asks = "[madvise]" in f.read()
        except OSError:
            asks = False

        def tunables(daemon):
            # glibc 2.36 ends each tunable's value in place with a NUL as it reads them, so
            # /proc/PID/environ shows "GLIBC_TUNABLES=a=1", "b=2" as two strings: join them.
            with open(f"/proc/{daemon.process.pid}/environ", "rb") as f:
                strings = f.read().split(b"\0")
            for i, string in enumerate(strings):
                if string.startswith(b"GLIBC_TUNABLES="):
                    parts = [string[len(b"GLIBC_TUNABLES="):]]
                    parts += itertools.takewhile(lambda s: s.startswith(b"glibc."),
                                                 strings[i + 1:])
                    return b":".join(parts).decode()
            return ""

        for given, expected in [(None, "glibc.malloc.hugetlb=1" if asks else ""),
                                ("glibc.malloc.arena_max=2",
                                 "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1" if asks
                                 else "glibc.malloc.arena_max=2"),
                                ("glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=0")]:
            daemon = Daemon()
            daemon.env["GLIBC_TUNABLES"] = given
            with daemon:
                # /proc/PID/environ is the environment of the program the process last ran:
                # the started process itself ran casewatchd again (exec keeps the pid, which
                # systemd's NotifyAccess=main needs).
                self.assertEqual(daemon.ask("status")["result"], 0)
                self.assertEqual(tunables(daemon), expected, f"given {given!r}")

    def test_the_client_says_when_the_daemon_is_not_running(self):
        result = __import__("subprocess").run(
            [CASEWATCH, "--socket", "/nonexistent/control.sock", "status"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 69)
        self.assertEqual(result.stderr,
                         "casewatch: the daemon is not running (no socket at "
                         "/nonexistent/control.sock)\n")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run the client as nobody")
    def test_a_peer_outside_the_groups_is_refused(self):
        with Daemon(group="") as daemon:
            # The socket's mode keeps nobody out entirely.
            refused = daemon.client("status", user="nobody")
            self.assertEqual(refused.returncode, 77, refused.stderr)
            # Past the mode, SO_PEERCRED still identifies nobody and the daemon refuses it.
            os.chmod(daemon.socket, 0o666)
            refused = daemon.client("status", user="nobody")
            self.assertEqual(refused.returncode, 77, refused.stderr)
            self.assertIn("permission denied", refused.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run the client as nobody")
    def test_a_reader_in_the_socket_group_may_read_but_not_shut_down(self):
        with Daemon(group="nogroup") as daemon:
            reader = daemon.client("status", user="nobody")
            self.assertEqual(reader.returncode, 0, reader.stderr)
            refused = daemon.client("shutdown", user="nobody")
            self.assertEqual(refused.returncode, 77, refused.stderr)
            self.assertEqual(daemon.ask("status")["result"], 0)

    def test_the_review_record_notes_trail_and_unmatched_files_through_the_daemon(self):
        with Daemon() as daemon:
            daemon.drop("OPEN-EPISODES_2026-11-25.CSV", "Case ID\nC1\n")
            daemon.drop("cases_2026-11-20.csv", cases_csv(3))
            daemon.wait_ingested("cases_2026-11-20.csv")

            # The file no source matches: in status (JSON and text) and metrics, still in the inbox.
            def listed():
                status = daemon.ask("status")["arguments"]
                return status if status["ignored"] else None
            status = wait_for(listed, "the unmatched file in status")
            self.assertEqual(status["ignored"], [{
                "file": "OPEN-EPISODES_2026-11-25.CSV",
                "reason": "matches no source's files glob (cases*.csv)"}])
            shown = daemon.client("status").stdout
            self.assertIn("OPEN-EPISODES_2026-11-25.CSV: matches no source", shown)
            # Times for people in the service time zone (Europe/London), named; UTC in JSON.
            self.assertIn("times in the service time zone, Europe/London", shown)
            self.assertEqual(status["timezone"], "Europe/London")
            next_review = datetime.datetime.strptime(status["next_review"], "%Y-%m-%dT%H:%M:%SZ")
            next_review = next_review.replace(tzinfo=datetime.timezone.utc)
            local = next_review.astimezone(zoneinfo.ZoneInfo("Europe/London"))
            expected = local.strftime("%Y-%m-%d %H:%M ") + local.tzname()
            self.assertEqual(status["next_review_local"], expected)
            self.assertIn(f"next review: {expected};", shown)
            self.assertIn("casewatch_inbox_unmatched_files 1", daemon.client("metrics").stdout)
            self.assertTrue(os.path.exists(os.path.join(daemon.inbox(),
                                                        "OPEN-EPISODES_2026-11-25.CSV")))

            # Two notes on one finding: both kept, the latest shown with the earlier counted.
            for text in ("strategy meeting 3 Dec", "allocation agreed"):
                noted = daemon.client("note", "unallocated", "C0000001", text)
                self.assertEqual(noted.returncode, 0, noted.stderr)
            case = daemon.ask("case", {"key": "C0000001"})["arguments"]
            self.assertEqual([n["text"] for n in case["notes"]],
                             ["strategy meeting 3 Dec", "allocation agreed"])
            [finding] = case["findings"]
            self.assertEqual((finding["note"]["text"], finding["note"]["earlier"]),
                             ("allocation agreed", 1))
            shown = daemon.client("case", "C0000001")
            self.assertIn("strategy meeting 3 Dec", shown.stdout)
            self.assertIn("allocation agreed", shown.stdout)
            refused = daemon.client("note", "nosuchrule", "C0000001", "x")
            self.assertEqual(refused.returncode, 1)
            self.assertIn("unknown rule 'nosuchrule'; the rules are: unallocated", refused.stderr)
            off_list = daemon.client("note", "unallocated", "NOPE", "x")
            self.assertIn("('unallocated' has 3 open keys)", off_list.stderr)

            # A past week with no review: an error naming the weeks that have one.
            old = daemon.client("review", "--week", "2020-W01")
            self.assertEqual(old.returncode, 1)
            self.assertIn("no review was produced for 2020-W01; reviews exist for:", old.stderr)
            future = daemon.client("review", "--week", "2999-W01")
            self.assertEqual(future.returncode, 1)
            self.assertIn("week 2999-W01 is in the future", future.stderr)

    def test_a_silence_is_recorded_with_its_author_listed_and_ended(self):
        with Daemon() as daemon:
            none = daemon.client("alerts")
            self.assertEqual((none.returncode, none.stdout), (0, "no alerts\n"), none.stderr)
            made = daemon.client("silence", "unallocated", "--scope", "Assessment North",
                                 "--reason", "team restructure", "--until-resolved")
            self.assertEqual(made.returncode, 0, made.stderr)
            user = pwd.getpwuid(os.geteuid()).pw_name
            self.assertEqual(made.stdout,
                             f"silence 1 on unallocated (Assessment North) until its alerts "
                             f"resolve, by {user} (uid {os.geteuid()})\n")
            listed = daemon.ask("alerts")
            self.assertEqual(listed["text"], "0 firing, 0 resolved; 1 active silence")
            [silence] = listed["arguments"]["silences"]
            self.assertEqual((silence["id"], silence["rule"], silence["scope"], silence["reason"],
                              silence["expires"]),
                             (1, "unallocated", "Assessment North", "team restructure", None))
            table = daemon.client("alerts")
            self.assertIn("team restructure", table.stdout)
            self.assertIn("until resolved", table.stdout)

            unknown = daemon.client("silence", "nosuchrule", "--reason", "x", "--expires",
                                    "2099-01-01")
            self.assertEqual(unknown.returncode, 1)
            self.assertEqual(unknown.stderr, "casewatch: 'nosuchrule' is not a rule, a source or "
                                             "a mail recipient\n")
            past = daemon.client("silence", "unallocated", "--reason", "x", "--expires",
                                 "2001-01-01")
            self.assertEqual(past.stderr, "casewatch: expires 2001-01-01 is not in the future\n")
            usage = daemon.client("silence", "unallocated", "--reason", "x")
            self.assertEqual(usage.returncode, 2)

            ended = daemon.client("unsilence", "1")
            self.assertEqual((ended.returncode, ended.stdout), (0, f"silence 1 ended by {user}\n"))
            again = daemon.client("unsilence", "1")
            self.assertEqual((again.returncode, again.stderr),
                             (1, "casewatch: no active silence 1\n"))
            self.assertEqual(daemon.ask("alerts")["result"], 3)

    def test_the_outbox_commands_answer_without_mail_configured(self):
        with Daemon() as daemon:
            empty = daemon.client("outbox")
            self.assertEqual((empty.returncode, empty.stdout), (0, "the outbox is empty\n"))
            bad = daemon.client("outbox", "list", "--state", "lost")
            self.assertEqual(bad.stderr, "casewatch: state 'lost' is not one of pending, sent, "
                                         "failed, cancelled\n")
            missing = daemon.client("outbox", "retry", "9")
            self.assertEqual((missing.returncode, missing.stderr),
                             (1, "casewatch: no outbox entry 9\n"))
            missing = daemon.client("outbox", "cancel", "9")
            self.assertEqual(missing.stderr, "casewatch: no outbox entry 9\n")


if __name__ == "__main__":
    unittest.main()
