"""Files taken together (issue 15 item 2) through `casewatchd --once` on a state folder: an
SSDA903 set's files of one as-of date are ingested together, a set without one of its tables is
read and reported incomplete, and a set with a bad file is rejected whole, naming it. (The Annex
A workbook feeding five lists, and one missing a list, are in test_standard_data.py on the
public fake workbook.)"""
import subprocess
import unittest

from once_support import CASEWATCHD, OnceTestCase

SET_CONFIG = """\
[service]
state_dir = "state"
socket = "state/control.sock"
timezone = "Europe/London"
holidays_file = "{holidays}"

[[source]]
name = "social-workers"
profile = "ssda903/social-workers"
files = "*sw*episodes*.csv"
set = "ssda903"

[[source]]
name = "episodes"
profile = "ssda903/episodes"
files = "*episodes*.csv"
set = "ssda903"

[[source]]
name = "reviews"
profile = "ssda903/reviews"
files = "*reviews*.csv"
set = "ssda903"
"""

EPISODES = "CHILD,DECOM,RNE,LS,PLACE,REC,DEC\n101,01/04/2025,S,C2,U1,,\n102,01/06/2025,S,C2,U1,,\n"
REVIEWS = "CHILD,REVIEW,REVIEW_CODE\n101,20/04/2025,PN1\n"
SOCIAL_WORKERS = "CHILD,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n101,SW1,01/04/2025,,\n"


class Ssda903Sets(OnceTestCase):
    config_text = SET_CONFIG

    def test_check_names_the_set(self):
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("set 'ssda903': social-workers, episodes, reviews: their files of one "
                      "as-of date are ingested together", result.stdout)

    def test_a_complete_set_is_ingested_and_archived(self):
        self.drop("episodes_2026-03-31.csv", EPISODES)
        self.drop("reviews_2026-03-31.csv", REVIEWS)
        self.drop("sw_episodes_2026-03-31.csv", SOCIAL_WORKERS)
        summary = self.run_json("--as-of", "2026-04-01")
        self.assertEqual([(e["source"], e["status"]) for e in summary["extracts"]],
                         [("social-workers", "ingested"), ("episodes", "ingested"),
                          ("reviews", "ingested")])
        self.assertEqual(summary["incomplete_sets"], [])
        self.assertEqual(sorted(p.name for p in (self.state / "archive").iterdir()),
                         ["episodes_2026-03-31.csv", "reviews_2026-03-31.csv",
                          "sw_episodes_2026-03-31.csv"])

    def test_a_set_without_social_worker_episodes_is_read_and_reported(self):
        self.drop("episodes_2026-03-31.csv", EPISODES)
        self.drop("reviews_2026-03-31.csv", REVIEWS)
        result = self.run_once("--as-of", "2026-04-01")
        self.assertIn("set 'ssda903' as of 2026-03-31 is incomplete: no file for social-workers; "
                      "episodes_2026-03-31.csv, reviews_2026-03-31.csv ingested without it",
                      result.stdout)
        self.assertIn("set 'ssda903' as of 2026-03-31 is incomplete: no file for social-workers",
                      result.stderr)
        self.assertEqual(sorted(p.name for p in (self.state / "archive").iterdir()),
                         ["episodes_2026-03-31.csv", "reviews_2026-03-31.csv"])

    def test_a_set_with_a_bad_file_is_rejected_whole_naming_it(self):
        self.drop("episodes_2026-03-31.csv", EPISODES)
        self.drop("reviews_2026-03-31.csv", "CHILD,REVIEW\n101,20/04/2025\n")  # no REVIEW_CODE
        self.drop("sw_episodes_2026-03-31.csv", SOCIAL_WORKERS)
        summary = self.run_json("--as-of", "2026-04-01")
        self.assertEqual([e["status"] for e in summary["extracts"]], ["rejected"] * 3)
        for extract in summary["extracts"]:
            self.assertTrue(extract["error"].startswith(
                "reviews_2026-03-31.csv (source reviews): "), extract["error"])
            self.assertIn("The files of set 'ssda903' as of 2026-03-31 (sw_episodes_2026-03-31.csv, "
                          "episodes_2026-03-31.csv, reviews_2026-03-31.csv) are ingested together "
                          "or not at all", extract["error"])
        self.assertEqual(list((self.state / "archive").iterdir()), [])
        rejected = sorted(p.name for p in (self.state / "rejected").iterdir())
        self.assertEqual(rejected, sorted([
            "episodes_2026-03-31.csv", "episodes_2026-03-31.csv.reason.txt",
            "reviews_2026-03-31.csv", "reviews_2026-03-31.csv.reason.txt",
            "sw_episodes_2026-03-31.csv", "sw_episodes_2026-03-31.csv.reason.txt"]))


if __name__ == "__main__":
    unittest.main()
