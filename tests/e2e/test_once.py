"""End-to-end: `casewatchd --once` over a temporary inbox — ingest, rejection with a reason file,
duplicate refusal, findings across two weeks, kill -9 in the middle of an ingest, bad
environments, and public fake SSDA903 data as a real extract."""
import os
import pathlib
import signal
import stat
import subprocess
import time
import unittest

from once_support import (CASE_HEADER, CASELOAD_RULE, CASES_CONFIG, CASEWATCHD, HOLIDAYS,
                          OnceTestCase, require_fake_903)


def case(key, team="Team A", worker="", referral="", closure="", status="Open", start="",
         end=""):
    return f"{key},P-{key},{team},{worker},{referral},{closure},{status},{start},{end}"


def cases_csv(*rows):
    return "\r\n".join([CASE_HEADER, *rows]) + "\r\n"


class IngestAndFind(OnceTestCase):
    def test_ingests_a_file_and_lists_cases_unallocated_over_four_weeks(self):
        self.drop("cases_2026-11-23.csv", cases_csv(
            case("A", referral="01/10/2026"),                      # 53 days: on the list
            case("B", worker="Duty", referral="09/11/2026"),       # 14 days: band table only
            case("C", worker="J Smith", referral="01/10/2026", start="02/10/2026"),
            case("D", worker="J Smith", referral="05/01/2026", start="06/01/2026",
                 end="20/10/2026"),                                # allocation ended: 34 days
            case("E", referral="25/10/2026"),                      # 29 days: just over
            case("F", referral="26/10/2026"),                      # 28 days: not over
        ))
        summary = self.run_json("--as-of", "2026-11-23")

        [extract] = summary["extracts"]
        self.assertEqual(extract["file"], "cases_2026-11-23.csv")
        self.assertEqual(extract["status"], "ingested")
        self.assertEqual(extract["as_of"], "2026-11-23")
        self.assertEqual(extract["rows"], 6)
        self.assertEqual(extract["problems"], 0)

        found = self.findings(summary, "unallocated")
        self.assertEqual(sorted(found), ["A", "D", "E"])
        self.assertEqual((found["A"]["since"], found["A"]["days"]), ("2026-10-01", 53))
        self.assertEqual((found["D"]["since"], found["D"]["days"]), ("2026-10-20", 34))
        self.assertEqual((found["E"]["since"], found["E"]["days"]), ("2026-10-25", 29))
        self.assertEqual(found["A"]["band"], "1 to 2 months")
        self.assertEqual(found["A"]["status"], "new")
        self.assertEqual(found["A"]["person"], "P-A")

        counts = summary["counts"]["unallocated"]
        self.assertEqual(counts["2 to 3 weeks"], 1)   # B
        self.assertEqual(counts["3 to 4 weeks"], 1)   # F
        self.assertEqual(counts["1 to 2 months"], 3)  # A, D, E
        self.assertEqual(sum(counts.values()), 5)     # C is allocated

        # The file left the inbox only after it was stored; state is private.
        self.assertFalse((self.inbox / "cases_2026-11-23.csv").exists())
        self.assertTrue((self.state / "archive" / "cases_2026-11-23.csv").exists())
        db = self.state / "casewatch.db"
        self.assertEqual(stat.S_IMODE(db.stat().st_mode) & 0o027, 0, "database must be 0640")
        self.assertEqual(stat.S_IMODE(self.state.stat().st_mode) & 0o027, 0)
        week = self.state / "reports" / "2026-W48"
        for name in ("review.txt", "review.html", "review.csv"):
            self.assertTrue((week / name).exists(), name)
            self.assertEqual(stat.S_IMODE((week / name).stat().st_mode) & 0o037, 0)

    def test_human_summary_shows_extracts_findings_and_the_review(self):
        self.drop("cases_2026-11-23.csv", cases_csv(case("A", referral="01/10/2026")))
        out = self.run_once("--as-of", "2026-11-23").stdout
        self.assertIn("cases_2026-11-23.csv", out)
        self.assertIn("ingested", out)
        self.assertIn("unallocated", out)
        self.assertIn("2026-W48", out)
        # The review shown is the review file written, word for word.
        review = (self.state / "reports" / "2026-W48" / "review.txt").read_text()
        self.assertIn("casewatch weekly review: 2026-W48", review)
        self.assertIn(review, out)

    def test_a_file_without_its_key_column_is_rejected_whole_with_a_reason_file(self):
        self.drop("cases_2026-11-23.csv", "Child ID,Allocated Team,Allocated Worker,"
                  "Referral Date,Closure Date,Case Status,Allocation Start,Allocation End\r\n"
                  "P1,Team A,,01/10/2026,,Open,,\r\n")
        summary = self.run_json("--as-of", "2026-11-23")
        [extract] = summary["extracts"]
        self.assertEqual(extract["status"], "rejected")
        self.assertIn("Case ID", extract["error"])
        self.assertEqual(summary["findings"], [])
        rejected = self.state / "rejected"
        self.assertTrue((rejected / "cases_2026-11-23.csv").exists())
        reason = (rejected / "cases_2026-11-23.csv.reason.txt").read_text()
        self.assertIn("Case ID", reason)
        self.assertIn("Nothing from this file was stored", reason)

    def test_repeated_keys_reject_the_whole_file_and_store_none_of_it(self):
        self.drop("cases_2026-11-23.csv", cases_csv(
            case("A", referral="01/10/2026"), case("B", referral="01/09/2026"),
            case("A", referral="02/10/2026")))
        summary = self.run_json("--as-of", "2026-11-23")
        [extract] = summary["extracts"]
        self.assertEqual(extract["status"], "rejected")
        self.assertIn("'A'", extract["error"])
        self.assertEqual(summary["findings"], [], "nothing of a rejected file is stored")

    def test_the_same_content_is_never_ingested_twice(self):
        text = cases_csv(case("A", referral="01/10/2026"))
        self.drop("cases_2026-11-23.csv", text)
        self.run_json("--as-of", "2026-11-23")
        self.drop("cases_copy_2026-11-23.csv", text)
        summary = self.run_json("--as-of", "2026-11-23")
        [extract] = summary["extracts"]
        self.assertEqual(extract["status"], "duplicate")
        self.assertIn("cases_2026-11-23.csv", extract["error"])
        self.assertTrue((self.state / "rejected" / "cases_copy_2026-11-23.csv.reason.txt").exists())
        # Nothing new was evaluated: the finding stands as the first run left it.
        self.assertEqual(self.findings(summary, "unallocated")["A"]["status"], "new")

    def test_a_second_week_shows_new_carried_and_resolved_findings(self):
        self.drop("cases_2026-11-16.csv", cases_csv(
            case("A", referral="01/10/2026"),
            case("G", referral="01/09/2026"),
            case("H", referral="10/09/2026"),
            case("J", referral="03/08/2026"),
            case("K", referral="20/10/2026"),  # 27 days on 16 Nov: not yet over
        ))
        first = self.run_json("--as-of", "2026-11-16")
        self.assertEqual(sorted(self.findings(first, "unallocated")), ["A", "G", "H", "J"])

        self.drop("cases_2026-11-23.csv", cases_csv(
            case("A", referral="01/10/2026"),
            case("G", worker="K Lee", referral="01/09/2026", start="19/11/2026"),
            case("J", referral="03/08/2026", closure="20/11/2026", status="Closed"),
            case("K", referral="20/10/2026"),
        ))
        second = self.run_json("--as-of", "2026-11-23")
        found = self.findings(second, "unallocated")
        self.assertEqual(sorted(found), ["A", "K"])
        self.assertEqual(found["A"]["status"], "carried")
        self.assertEqual(found["A"]["weeks_on_list"], 1)
        self.assertEqual(found["K"]["status"], "new")

        review = (self.state / "reports" / "2026-W48" / "review.txt").read_text()
        self.assertIn("K Lee", review)  # G resolved: allocated
        self.assertRegex(review, r"(?i)vanish|no longer in the extract")  # H
        self.assertRegex(review, r"(?i)closed")  # J


class ReviewNotes(OnceTestCase):
    def note(self, *args):
        return subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--note", *args],
                              capture_output=True, text=True, timeout=60)

    def test_a_note_recorded_from_the_command_line_shows_in_the_review_until_resolved(self):
        self.drop("cases_2026-11-16.csv", cases_csv(case("A", referral="01/10/2026")))
        self.run_json("--as-of", "2026-11-16")
        result = self.note("unallocated", "A", "within a managed process: strategy meeting 3 Dec",
                           "--author", "jsmith")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("note recorded on unallocated A by jsmith", result.stdout)

        summary = self.run_json("--as-of", "2026-11-16")
        note = self.findings(summary, "unallocated")["A"]["note"]
        self.assertEqual(note["text"], "within a managed process: strategy meeting 3 Dec")
        self.assertEqual(note["author"], "jsmith")
        self.assertRegex(note["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        review = (self.state / "reports" / "2026-W47" / "review.txt").read_text()
        self.assertIn("strategy meeting 3 Dec", review)
        self.assertIn("jsmith", review)

        # Allocated the next week: the finding resolves and takes no more notes.
        self.drop("cases_2026-11-23.csv", cases_csv(
            case("A", worker="K Lee", referral="01/10/2026", start="20/11/2026")))
        self.run_json("--as-of", "2026-11-23")
        refused = self.note("unallocated", "A", "too late")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("no open finding of rule 'unallocated' for key 'A'", refused.stderr)

    def test_a_note_on_an_unknown_finding_is_refused_plainly(self):
        self.drop("cases_2026-11-16.csv", cases_csv(case("A", referral="01/10/2026")))
        self.run_json("--as-of", "2026-11-16")
        result = self.note("unallocated", "NOPE", "text")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no open finding", result.stderr)


class TimeGoesForward(OnceTestCase):
    def test_extracts_are_taken_in_as_of_order_whatever_order_they_arrived_in(self):
        # This week's file lands first, last week's late copy after it.
        newer = self.drop("cases_2026-11-23.csv", cases_csv(case("A", referral="01/10/2026")))
        older = self.drop("cases_2026-11-16.csv", cases_csv(case("A", referral="01/10/2026"),
                                                            case("B", referral="01/09/2026")))
        os.utime(newer, (1_000_000, 1_000_000))
        os.utime(older, (2_000_000, 2_000_000))
        summary = self.run_json("--as-of", "2026-11-23")
        self.assertEqual([e["file"] for e in summary["extracts"]],
                         ["cases_2026-11-16.csv", "cases_2026-11-23.csv"])
        self.assertEqual([e["status"] for e in summary["extracts"]], ["ingested", "ingested"])
        # B was in the older extract only: the latest snapshot is the newer one.
        self.assertEqual(sorted(self.findings(summary, "unallocated")), ["A"])

    def test_an_extract_older_than_the_latest_ingested_is_rejected_with_its_reason(self):
        self.drop("cases_2026-11-23.csv", cases_csv(case("A", referral="01/10/2026")))
        self.run_json("--as-of", "2026-11-23")
        self.drop("cases_2026-11-16.csv", cases_csv(case("B", referral="01/09/2026")))
        summary = self.run_json("--as-of", "2026-11-23")
        [extract] = summary["extracts"]
        self.assertEqual(extract["status"], "rejected")
        self.assertIn("older than the latest cases extract", extract["error"])
        self.assertEqual(sorted(self.findings(summary, "unallocated")), ["A"])
        reason = (self.state / "rejected" / "cases_2026-11-16.csv.reason.txt").read_text()
        self.assertIn("as of 2026-11-16", reason)


class KillDuringIngest(OnceTestCase):
    ROWS = 600_000

    def test_kill_9_in_the_middle_of_an_ingest_leaves_the_database_as_it_was(self):
        self.drop("cases_2026-11-16.csv", cases_csv(case("A", referral="01/10/2026")))
        before = self.run_json("--as-of", "2026-11-16")
        self.assertEqual(before["extracts"][0]["status"], "ingested")

        rows = [case(f"K{n}", worker=f"Worker {n % 900}", referral="01/06/2026",
                     start="02/06/2026") for n in range(self.ROWS)]
        self.drop("cases_2026-11-23.csv", cases_csv(case("A", referral="01/10/2026"), *rows))
        wal = self.state / "casewatch.db-wal"
        wal_before = wal.stat().st_size if wal.exists() else 0
        process = subprocess.Popen([str(CASEWATCHD), "--config", str(self.config), "--once",
                                    "--as-of", "2026-11-23"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Wait until the ingest transaction is writing (the WAL grows), then kill -9.
        deadline = time.monotonic() + 120
        killed = False
        while time.monotonic() < deadline and process.poll() is None:
            if wal.exists() and wal.stat().st_size > wal_before + 4_000_000:
                process.send_signal(signal.SIGKILL)
                killed = True
                break
            try:  # wait on the process itself, briefly, then look at the WAL again
                process.wait(timeout=0.005)
            except subprocess.TimeoutExpired:
                pass
        process.wait(timeout=60)
        self.assertTrue(killed, "the ingest finished before it could be interrupted")
        self.assertEqual(process.returncode, -signal.SIGKILL)

        # The file is still in the inbox, and the next run ingests it whole, once.
        self.assertTrue((self.inbox / "cases_2026-11-23.csv").exists())
        after = self.run_json("--as-of", "2026-11-23")
        [extract] = after["extracts"]
        self.assertEqual(extract["status"], "ingested")
        self.assertEqual(extract["rows"], self.ROWS + 1)
        self.assertEqual(self.findings(after, "unallocated")["A"]["status"], "carried")


class BadEnvironment(OnceTestCase):
    def test_check_reports_a_bad_config_with_file_and_line(self):
        self.config.write_text(self.config.read_text() + "\nfrobnicate = 1\n")
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r"casewatch\.toml:\d+: .*frobnicate")

    def test_check_refuses_a_duration_that_would_overflow(self):
        self.config.write_text(self.config.read_text().replace(
            "[service]\n", '[service]\nsettle = "999999999999999d"\n', 1))
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r"casewatch\.toml:\d+: 'settle' is too long: at most 366d")

    def test_a_holiday_list_ending_within_a_year_is_warned_about(self):
        soon = self.run_once("--as-of", "2028-03-01")
        self.assertIn("the bank holiday list ends 2028-12-26, less than a year after today "
                      "(2028-03-01)", soon.stderr)
        fine = self.run_once("--as-of", "2026-11-23")
        self.assertNotIn("bank holiday list ends", fine.stderr)

    def test_check_accepts_the_shipped_example(self):
        from once_support import SOURCE_DIR
        result = subprocess.run([str(CASEWATCHD), "--config",
                                 str(SOURCE_DIR / "examples" / "casewatch.toml"), "--check"],
                                capture_output=True, text=True, timeout=60)
        if os.geteuid() == 0:
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertRegex(result.stdout, r"holidays: .*bank-holidays-england-and-wales\.csv, "
                                            r"listed to \d{4}-\d\d-\d\d")
        else:  # its state_dir is /var/lib/casewatch, which only root may create
            self.assertEqual(result.returncode, 1)
            self.assertIn("state_dir /var/lib/casewatch", result.stderr)

    def test_check_refuses_an_unknown_time_zone_with_file_and_line(self):
        self.config.write_text(self.config.read_text().replace(
            "[service]\n", '[service]\ntimezone = "Europe/Atlantis"\n', 1))
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr,
                         r"casewatch\.toml:3: unknown time zone 'Europe/Atlantis'")
        # The service refuses it the same way, with the exit status systemd does not restart.
        service = subprocess.run([str(CASEWATCHD), "--config", str(self.config)],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(service.returncode, 78, service.stderr)
        self.assertRegex(service.stderr, r"casewatch\.toml:3: unknown time zone")

    def test_check_refuses_a_state_dir_it_cannot_create(self):
        blocker = self.tmp / "blocker"
        blocker.write_text("a file, not a folder")
        self.config.write_text(self.config.read_text().replace(
            'state_dir = "state"', f'state_dir = "{blocker}/state"', 1))
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"state_dir {blocker}/state cannot be created", result.stderr)

    def test_check_prints_the_holiday_file_in_use(self):
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("holidays: " + str(HOLIDAYS) + ", listed to ", result.stdout)

    def test_a_corrupt_database_is_an_environment_failure_with_a_clear_message(self):
        (self.state / "casewatch.db").write_bytes(b"this is not a database" * 100)
        result = self.run_once("--as-of", "2026-11-23", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("casewatch.db", result.stderr)

    @unittest.skipIf(os.geteuid() == 0, "root can write anywhere")
    def test_an_unwritable_state_folder_is_an_environment_failure(self):
        self.state.chmod(0o500)
        self.addCleanup(self.state.chmod, 0o750)
        result = self.run_once("--as-of", "2026-11-23", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn(str(self.state), result.stderr)

    def test_a_state_folder_that_is_a_file_is_an_environment_failure(self):
        (self.tmp / "blocked").write_text("a file, not a folder")
        self.write_config(self.config_text.replace('state_dir = "state"',
                                                   'state_dir = "blocked"'))
        result = self.run_once("--as-of", "2026-11-23", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("blocked", result.stderr)


SSDA903_CONFIG = """
[service]
state_dir = "state"
socket = "state/control.sock"
holidays_file = "{holidays}"

[[source]]
name = "episodes"
files = "episodes*.csv"
key = ["CHILD", "DECOM"]
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "CHILD"
started = "DECOM"
ceased = "DEC"
reason = "RNE"

[[source]]
name = "reviews"
files = "reviews*.csv"
key = ["CHILD", "REVIEW", "REVIEW_CODE"]
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "CHILD"
review = "REVIEW"

[[rule]]
id = "lac-reviews"
kind = "recurring"
source = "episodes"
start = "started"
end = "ceased"
events_source = "reviews"
event = "review"
schedule = ["20wd", "3m", "6m"]
"""


class PublicFakeSsda903(OnceTestCase):
    """Public fake SSDA903 data from data-to-insight/csc-validator-be-903 (MIT), read from
    ../shared/peer-data, never copied into the repository."""

    config_text = SSDA903_CONFIG

    def setUp(self):
        require_fake_903(self)
        super().setUp()

    def test_fake_903_episodes_and_reviews_ingest_and_give_overdue_reviews(self):
        # Named with the end of the 2018-19 collection year, their as-of date.
        self.drop("episodes_2019-03-31.csv", self.episodes.read_bytes())
        self.drop("reviews_2019-03-31.csv", self.reviews.read_bytes())
        summary = self.run_json("--as-of", "2019-04-01")
        extracts = {e["source"]: e for e in summary["extracts"]}
        self.assertEqual(extracts["episodes"]["status"], "ingested")
        self.assertEqual(extracts["episodes"]["rows"], 5050)
        # The fake reviews hold two exact repeats of a row (same child, date and code): a row
        # problem each, not a reason to refuse 12,580 good rows.
        self.assertEqual(extracts["reviews"]["status"], "ingested", extracts["reviews"]["error"])
        self.assertEqual(extracts["reviews"]["rows"], 12582)

        found = self.findings(summary, "lac-reviews")
        # Child 384923's open episode began 09/05/2017. Reviews on or after it and by the as-of
        # date: 09/12/2017 and 23/07/2018. Due: 09/05/2017 + 20wd = 07/06/2017 (29 May 2017 a
        # bank holiday); after the first review + 3m = 09/03/2018; after the second + 6m =
        # 23/01/2019, before 31/03/2019: overdue.
        key = "384923|09/05/2017"  # key columns as written in the file
        self.assertIn(key, found)
        self.assertEqual(found[key]["state"], "overdue")
        self.assertEqual(found[key]["start"], "2017-05-09")
        self.assertEqual(found[key]["due"], "2019-01-23")
        self.assertEqual(found[key]["end"], "2018-07-23")
        # Child 566910's open episode began 14/08/2017; reviews 30/08/2017, 29/07/2018,
        # 08/10/2018: the next is due 08/04/2019, after the as-of date: not on the list.
        self.assertNotIn("566910|14/08/2017", found)


if __name__ == "__main__":
    unittest.main()


class Caseload(OnceTestCase):
    config_text = CASES_CONFIG + CASELOAD_RULE

    def test_a_caseload_finding_carries_its_count_in_cases(self):
        self.drop("cases_2026-11-23.csv", cases_csv(
            case("A", worker="J Smith", referral="01/10/2026", start="02/10/2026"),
            case("B", worker="J Smith", referral="01/10/2026", start="02/10/2026"),
            case("C", worker="J Smith", referral="01/10/2026", start="02/10/2026"),
            case("D", worker="K Lee", referral="01/10/2026", start="02/10/2026")))
        summary = self.run_json("--as-of", "2026-11-23")
        found = self.findings(summary, "caseload")
        self.assertEqual(sorted(found), ["J Smith"])
        self.assertEqual(found["J Smith"]["cases"], 3)
        self.assertNotIn("days", found["J Smith"])
        # A second run reads the finding back from the database: the count survives.
        again = self.findings(self.run_json("--as-of", "2026-11-23"), "caseload")
        self.assertEqual(again["J Smith"]["cases"], 3)
