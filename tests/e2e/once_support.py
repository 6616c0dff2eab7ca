"""Helpers for end-to-end tests of `casewatchd --once`: a temporary state folder with a config
written for it, extracts dropped into its inbox, and the real binary run on it."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import textwrap
import unittest

SOURCE_DIR = pathlib.Path(os.environ.get("CASEWATCH_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("CASEWATCH_BUILD_DIR", SOURCE_DIR / "build"))
CASEWATCHD = BUILD_DIR / "daemon" / "casewatchd"
PEER_DATA = SOURCE_DIR.parent / "shared" / "peer-data"
HOLIDAYS = SOURCE_DIR / "data" / "bank-holidays-england-and-wales.csv"

CASE_HEADER = ("Case ID,Child ID,Allocated Team,Allocated Worker,Referral Date,Closure Date,"
               "Case Status,Allocation Start,Allocation End")

# The example `cases` source's fields and the unallocated rule, shared by the end-to-end
# configurations (it ends with the [[rule]] table, so rule keys may follow it).
CASES_FIELDS_AND_RULE = """
[source.fields]
person = "Child ID"
team = "Allocated Team"
worker = ["Allocated Worker", "Social Worker"]
opened = "Referral Date"
closed = "Closure Date"
status = "Case Status"
allocation_start = "Allocation Start"
allocation_end = "Allocation End"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "cases"
open_values = ["Open"]
over_days = 28
"""

CASES_CONFIG = """
[service]
state_dir = "state"
socket = "state/control.sock"
holidays_file = "{holidays}"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
date_formats = ["%d/%m/%Y", "%Y-%m-%d"]
max_bad_rows = "20%"
""" + CASES_FIELDS_AND_RULE


# A caseload rule over the same source: a worker holding more than two open cases is listed.
CASELOAD_RULE = """
[[rule]]
id = "caseload"
kind = "caseload"
source = "cases"
review = false
open_values = ["Open"]
max_cases = 2
"""


def peer_file(relative):
    """The path of a public fake extract, or None when ../shared/peer-data is absent."""
    path = PEER_DATA / relative
    return path if path.exists() else None


def require_fake_903(test):
    """Sets test.episodes and test.reviews to csc-validator-be-903's public fake episodes and
    reviews, or skips the test, saying why, when ../shared/peer-data is absent."""
    test.episodes = peer_file("csc-validator-be-903/episodes.csv")
    test.reviews = peer_file("csc-validator-be-903/reviews.csv")
    if test.episodes is None or test.reviews is None:
        test.skipTest("../shared/peer-data/csc-validator-be-903 is absent (public fake data, "
                      "not part of the repository)")


class OnceTestCase(unittest.TestCase):
    """A temporary folder holding casewatch.toml and state/ (with inbox/)."""

    config_text = CASES_CONFIG

    def setUp(self):
        if not CASEWATCHD.exists():
            self.fail(f"{CASEWATCHD} is not built")
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="casewatch-e2e-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.config = self.tmp / "casewatch.toml"
        self.write_config(self.config_text)
        self.state = self.tmp / "state"
        self.inbox = self.state / "inbox"
        self.state.mkdir(mode=0o750)
        self.inbox.mkdir(mode=0o750)

    def write_config(self, text):
        self.config.write_text(textwrap.dedent(text).format(holidays=HOLIDAYS))

    def drop(self, name, text, encoding="utf-8"):
        """Writes an extract into the inbox (by rename, as an export job should)."""
        temporary = self.inbox / (name + ".part")
        temporary.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
        final = self.inbox / name
        temporary.rename(final)
        return final

    def run_once(self, *args, check=True):
        result = subprocess.run([str(CASEWATCHD), "--config", str(self.config), "--once", *args],
                                capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            self.fail(f"casewatchd exited {result.returncode}\nstdout:\n{result.stdout}\n"
                      f"stderr:\n{result.stderr}")
        return result

    def run_json(self, *args):
        result = self.run_once("--json", *args)
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError as error:
            self.fail(f"stdout is not one JSON object ({error}):\n{result.stdout}")

    def findings(self, summary, rule):
        return {f["key"]: f for f in summary["findings"] if f["rule"] == rule}
