"""The systemd unit's hardening: systemd-analyze security must score it 2.0 or better."""
import os
import re
import shutil
import subprocess
import unittest

SOURCE_DIR = os.environ.get(
    "CASEWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(SOURCE_DIR, "systemd", "casewatchd.service")


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")

    def test_exposure_score_is_at_most_two(self):
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--no-pager", UNIT],
            capture_output=True, text=True, timeout=60)
        match = re.search(r"Overall exposure level for casewatchd\.service: ([0-9.]+)",
                          result.stdout)
        self.assertIsNotNone(match, result.stdout + result.stderr)
        self.assertLessEqual(float(match.group(1)), 2.0, result.stdout)

    def test_unit_keeps_peer_uids_visible_and_reloads_through_the_client(self):
        with open(UNIT, encoding="utf-8") as unit:
            settings = [line.strip() for line in unit
                        if line.strip() and not line.startswith("#")]
        self.assertNotIn("PrivateUsers=yes", settings)
        for expected in ["Type=notify",
                         "ExecStart=/usr/sbin/casewatchd --config /etc/casewatch/casewatch.toml",
                         "ExecReload=/usr/bin/casewatch reload",
                         "User=casewatch",
                         "StateDirectory=casewatch",
                         "RuntimeDirectory=casewatch",
                         "ConfigurationDirectory=casewatch",
                         "LoadCredential=smtp-password:/etc/casewatch/smtp-password",
                         "Restart=on-failure"]:
            self.assertIn(expected, settings)


if __name__ == "__main__":
    unittest.main()
