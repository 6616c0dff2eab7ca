"""End-to-end: the weekly review as a management record, through `casewatchd --once`. Daily
extracts over three weeks, reviewed on Mondays: NEW means "not on the previous review", CARRIED
counts the reviews an item was on, the comparison line names the real previous review, notes
form a trail that outlives the finding, a rule tweak keeps the history of the keys it does not
touch, and a source with no data or old data is never read as an all-clear."""
import datetime
import sqlite3
import subprocess

from once_support import CASE_HEADER, CASES_CONFIG, CASEWATCHD, OnceTestCase

MONDAY_W47 = datetime.date(2026, 11, 16)


def row(key, referral, worker="", start="", closure="", status="Open", team="Team A"):
    return f"{key},P-{key},{team},{worker},{referral},{closure},{status},{start},"


def extract(day):
    """The cases extract of `day`: over_days = 28, so a case referred on D is listed from D + 29.
    A: referred 1 Oct, never allocated (on every review).
    C: referred 19 Oct: 29 days on Tue 17 Nov, so it joins the list on a Tuesday.
    D: referred 1 Sep, allocated on Wed 25 Nov (notes written on it while it was listed).
    E: worker 'MASH', unallocated while the rule says 'MASH' is not a worker (until W49)."""
    rows = [row("A", "01/10/2026"), row("C", "19/10/2026")]
    if day >= datetime.date(2026, 11, 25):
        rows.append(row("D", "01/09/2026", worker="K Lee", start="25/11/2026"))
    else:
        rows.append(row("D", "01/09/2026"))
    rows.append(row("E", "01/09/2026", worker="MASH"))
    rows.append(row(f"R{day:%m%d}", f"{day:%d/%m/%Y}"))  # the day's referral: never 28 days old here
    return "\r\n".join([CASE_HEADER, *rows]) + "\r\n"


WITH_MASH = CASES_CONFIG + ('not_a_worker = ["Unallocated", "Duty", "Duty Worker", "#N/A", "N/A", '
                            '"MASH"]\n')


class DailyDropsWeeklyReviews(OnceTestCase):
    config_text = WITH_MASH  # until week 49, 'MASH' is not a worker
    def drop_days(self, first, last):
        day = first
        while day <= last:
            self.drop(f"cases_{day.isoformat()}.csv", extract(day))
            day += datetime.timedelta(days=1)

    def review(self, week):
        return (self.state / "reports" / week / "review.txt").read_text()

    def note(self, key, text, author):
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--note",
                                 "unallocated", key, text, "--author", author],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_three_weeks_of_daily_extracts(self):
        # Week 47: Tue 10 Nov to Mon 16 Nov, reviewed on Monday 16 Nov.
        self.drop_days(MONDAY_W47 - datetime.timedelta(days=6), MONDAY_W47)
        w47 = self.run_json("--as-of", "2026-11-16")
        found = self.findings(w47, "unallocated")
        self.assertEqual(sorted(found), ["A", "D", "E"])
        self.assertEqual(found["A"]["review_status"], "new")
        self.assertEqual(found["A"]["weeks_on_review"], 0)
        self.assertEqual(found["A"]["first_seen"], "2026-11-10")
        text = self.review("2026-W47")
        self.assertIn("First review: there is no earlier review to compare with", text)

        self.note("D", "strategy meeting 18 Nov", "jsmith")
        self.note("D", "allocation agreed for 25 Nov", "kpatel")
        self.note("A", "within a managed process", "jsmith")

        # Week 48: daily drops Tue 17 to Mon 23 Nov; C joined the list on Tuesday.
        self.drop_days(datetime.date(2026, 11, 17), datetime.date(2026, 11, 23))
        w48 = self.run_json("--as-of", "2026-11-23")
        found = self.findings(w48, "unallocated")
        self.assertEqual(sorted(found), ["A", "C", "D", "E"])
        self.assertEqual(found["C"]["first_seen"], "2026-11-17")
        self.assertEqual(found["C"]["review_status"], "new")   # not "CARRIED (0 weeks)"
        self.assertEqual(found["A"]["review_status"], "carried")
        self.assertEqual(found["A"]["weeks_on_review"], 1)
        text = self.review("2026-W48")
        self.assertIn("Compared with the review of 2026-W47 (as of 16 Nov 2026).", text)
        self.assertNotIn("0 weeks", text)
        # The latest of D's two notes, with the earlier one counted.
        self.assertIn("allocation agreed for 25 Nov", text)
        self.assertIn("(+1 earlier)", text)

        # Before week 49, MASH counts as a worker again: E leaves because of the change only.
        self.write_config(CASES_CONFIG)
        self.drop_days(datetime.date(2026, 11, 24), datetime.date(2026, 11, 30))
        w49 = self.run_json("--as-of", "2026-11-30")
        found = self.findings(w49, "unallocated")
        self.assertEqual(sorted(found), ["A", "C"])
        # On W47 and W48: CARRIED (2 weeks), its first_seen and note kept across the rule tweak.
        self.assertEqual(found["A"]["review_status"], "carried")
        self.assertEqual(found["A"]["weeks_on_review"], 2)
        self.assertEqual(found["A"]["first_seen"], "2026-11-10")
        self.assertEqual(found["A"]["note"]["text"], "within a managed process")
        self.assertEqual(found["C"]["weeks_on_review"], 1)
        text = self.review("2026-W49")
        self.assertIn("Compared with the review of 2026-W48 (as of 23 Nov 2026).", text)
        self.assertIn("CARRIED (2 weeks)", text)
        self.assertIn("Rule changed on 24 Nov 2026: not_a_worker:", text)
        self.assertIn("Rule definition changed", text)          # E: listed apart, not fixed
        # D was allocated: RESOLVED with its last note.
        csv = (self.state / "reports" / "2026-W49" / "review.csv").read_text(encoding="utf-8-sig")
        resolved = [line for line in csv.splitlines() if ",resolved," in line]
        self.assertEqual(len(resolved), 2, csv)
        d_row = next(line for line in resolved if line.split(",")[2] == "D")
        self.assertIn("allocation agreed for 25 Nov", d_row)
        # Both notes on D survive its resolution.
        with sqlite3.connect(self.state / "casewatch.db") as connection:
            texts = [r[0] for r in connection.execute(
                "SELECT text FROM notes WHERE key = 'D' ORDER BY id")]
        self.assertEqual(texts, ["strategy meeting 18 Nov", "allocation agreed for 25 Nov"])


class NoSilentAllClear(OnceTestCase):
    config_text = CASES_CONFIG + """
[[source]]
name = "episodes"
files = "episodes*.csv"
key = ["Case ID"]
[source.fields]
person = "Child ID"
team = "Allocated Team"
worker = "Allocated Worker"
opened = "Referral Date"

[[rule]]
id = "episodes-unallocated"
kind = "unallocated"
source = "episodes"
over_days = 28
"""

    def test_no_extract_is_no_data_and_an_old_one_is_out_of_date(self):
        self.drop("cases_2026-11-20.csv", "\r\n".join([CASE_HEADER, row("A", "01/10/2026")]))
        self.run_json("--as-of", "2026-12-01")
        text = self.review("2026-W49")
        self.assertIn("NO DATA", text)
        self.assertIn("no extract of 'episodes' has been ingested", text)
        self.assertIn("DATA OUT OF DATE: cases, last extract as of 20 Nov 2026, 11 days before "
                      "this review", text)

    def review(self, week):
        return (self.state / "reports" / week / "review.txt").read_text()

    def test_an_inbox_file_that_matches_no_source_is_reported_not_left_silently(self):
        self.drop("Open Episodes 25-11-2026.csv", "Case ID\r\nA\r\n")
        summary = self.run_json("--as-of", "2026-11-30")
        self.assertEqual(summary["extracts"], [])
        self.assertEqual(summary["ignored"], [{
            "file": "Open Episodes 25-11-2026.csv",
            "reason": "matches no source's files glob (cases*.csv, episodes*.csv)"}])
        text = self.run_once("--as-of", "2026-11-30")
        self.assertIn("Open Episodes 25-11-2026.csv", text.stdout)
        self.assertIn("NOT READ: matches no source's files glob", text.stdout)
        self.assertNotIn("The inbox was empty", text.stdout)
        self.assertIn("Open Episodes 25-11-2026.csv is not read", text.stderr)
        self.assertTrue((self.inbox / "Open Episodes 25-11-2026.csv").exists())  # never guessed


class KeyNowBelongsToAnotherPerson(OnceTestCase):
    """Item 6's data-quality item: a key present in two extracts under two person identifiers."""

    def test_reported_by_key_in_the_summary_and_the_review_never_by_person(self):
        rows = [row("A", "01/10/2026"), row("B", "01/10/2026"), row("C", "01/10/2026")]
        self.drop("cases_2026-11-16.csv", "\r\n".join([CASE_HEADER, *rows]) + "\r\n")
        # The next day: A names another child (P-Z); B only gains a worker.
        rows = [row("A", "01/10/2026").replace(",P-A,", ",P-Z,"),
                row("B", "01/10/2026", worker="K Lee", start="17/11/2026"), row("C", "01/10/2026")]
        self.drop("cases_2026-11-17.csv", "\r\n".join([CASE_HEADER, *rows]) + "\r\n")
        result = self.run_once("--as-of", "2026-11-17")
        self.assertIn("line 2, column 'Child ID': key A now belongs to a different person than "
                      "in the previous extract", result.stdout)
        self.assertIn("1 keys now belong to a different person", result.stderr)
        self.assertNotIn("P-Z", result.stderr)  # the log: neither child's identifier
        self.assertNotIn("P-A", result.stderr)
        review = (self.state / "reports" / "2026-W47" / "review.txt").read_text()
        section = review[review.index("Data quality: keys that now belong to a different person "
                                      "(1)"):]
        self.assertIn("  cases   A    17 Nov 2026", section)
        self.assertNotIn("P-Z", section)  # (the files' lists show the person column as before)
        self.assertNotIn("P-A", section)

        # The same, as JSON: a problem of the second extract (an identical re-run finds nothing new).
        self.drop("cases_2026-11-18.csv", "\r\n".join([CASE_HEADER, *rows]).replace(
            ",P-Z,", ",P-A,") + "\r\n")
        summary = self.run_json("--as-of", "2026-11-18")
        [extract] = summary["extracts"]
        self.assertEqual(extract["problems"], 1)
        self.assertEqual(extract["problem_list"], [{
            "line": 2, "column": "Child ID",
            "message": "key A now belongs to a different person than in the previous extract"}])
