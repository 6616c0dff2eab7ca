"""The systemd files as shipped: the unit is valid (systemd-analyze verify), hardened (security
score 2.0 or better), starts without an SMTP password file, and the users, groups and folders
let an export job drop extracts that the service can read."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE_DIR = pathlib.Path(os.environ.get("CASEWATCH_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("CASEWATCH_BUILD_DIR", SOURCE_DIR / "build"))
SYSTEMD_DIR = SOURCE_DIR / "systemd"
UNIT = SYSTEMD_DIR / "casewatchd.service"


def settings(path):
    with open(path, encoding="utf-8") as text:
        return [line.strip() for line in text if line.strip() and not line.startswith("#")]


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")

    def test_exposure_score_is_at_most_two(self):
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
            capture_output=True, text=True, timeout=60)
        match = re.search(r"Overall exposure level for casewatchd\.service: ([0-9.]+)",
                          result.stdout)
        self.assertIsNotNone(match, result.stdout + result.stderr)
        self.assertLessEqual(float(match.group(1)), 2.0, result.stdout)

    def test_unit_verifies_with_the_built_programs(self):
        # verify checks that ExecStart's program exists: point it at the build's.
        for program in ["casewatchd", "casewatch"]:
            if not (BUILD_DIR / "daemon" / program).exists():
                self.fail(f"{program} is not built")
        with tempfile.TemporaryDirectory(prefix="casewatch-unit-") as folder:
            text = UNIT.read_text(encoding="utf-8")
            text = text.replace("/usr/sbin/casewatchd", str(BUILD_DIR / "daemon" / "casewatchd"))
            text = text.replace("/usr/bin/casewatch ", str(BUILD_DIR / "daemon" / "casewatch") + " ")
            unit = pathlib.Path(folder) / "casewatchd.service"
            unit.write_text(text, encoding="utf-8")
            # --man=no: the man pages named in Documentation= are installed by the package.
            result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                                    capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stderr.strip(), "")

    def test_unit_keeps_peer_uids_visible_and_reloads_through_the_client(self):
        unit = settings(UNIT)
        self.assertNotIn("PrivateUsers=yes", unit)
        for expected in ["Type=notify",
                         "ExecStart=/usr/sbin/casewatchd --config /etc/casewatch/casewatch.toml",
                         "ExecReload=/usr/bin/casewatch reload",
                         "User=casewatch",
                         "SupplementaryGroups=casewatch-drop",
                         "StateDirectory=casewatch",
                         "RuntimeDirectory=casewatch",
                         "ConfigurationDirectory=casewatch",
                         "Restart=on-failure"]:
            self.assertIn(expected, unit)

    def test_unit_needs_no_password_file_to_start(self):
        # systemd 252 fails a unit whose LoadCredential= file is missing (243/CREDENTIALS);
        # the password is read by casewatchd from [mail] password_file, when mail is sent.
        for line in settings(UNIT):
            self.assertFalse(line.startswith("LoadCredential"), line)
            self.assertFalse(line.startswith("SetCredential"), line)


class UsersAndFoldersTest(unittest.TestCase):
    def test_sysusers_creates_the_user_and_the_three_groups(self):
        lines = settings(SYSTEMD_DIR / "casewatch.sysusers")
        self.assertIn("g casewatch -", lines)
        self.assertIn("g casewatch-admin -", lines)
        self.assertIn("g casewatch-drop -", lines)
        self.assertIn("m casewatch casewatch-drop", lines)
        self.assertTrue(any(re.match(r"u casewatch -:casewatch ", line) for line in lines))

    def test_inbox_is_setgid_drop_group_writable_and_reachable(self):
        lines = settings(SYSTEMD_DIR / "casewatch.tmpfiles")
        self.assertIn("d /var/lib/casewatch 0751 casewatch casewatch -", lines)
        self.assertIn("d /var/lib/casewatch/inbox 3770 casewatch casewatch-drop -", lines)
        self.assertIn("StateDirectoryMode=0751", settings(UNIT))

    def test_sysusers_and_tmpfiles_create_them_in_a_fresh_root(self):
        for tool in ["systemd-sysusers", "systemd-tmpfiles"]:
            if shutil.which(tool) is None:
                self.skipTest(f"{tool} is not installed")
        if os.geteuid() != 0:
            self.skipTest("creating folders owned by casewatch needs root")
        with tempfile.TemporaryDirectory(prefix="casewatch-root-") as folder:
            root = pathlib.Path(folder)
            (root / "etc").mkdir()
            for command in [["systemd-sysusers", f"--root={root}",
                             str(SYSTEMD_DIR / "casewatch.sysusers")],
                            ["systemd-tmpfiles", "--create", f"--root={root}",
                             str(SYSTEMD_DIR / "casewatch.tmpfiles")]]:
                result = subprocess.run(command, capture_output=True, text=True, timeout=60)
                self.assertEqual(result.returncode, 0, result.stderr)
            groups = {}
            for line in (root / "etc" / "group").read_text(encoding="utf-8").splitlines():
                name, _, gid, members = line.split(":")
                groups[name] = (int(gid), members.split(",") if members else [])
            self.assertIn("casewatch", groups["casewatch-drop"][1])
            self.assertIn("casewatch-admin", groups)
            state = os.stat(root / "var/lib/casewatch")
            inbox = os.stat(root / "var/lib/casewatch/inbox")
            self.assertEqual(state.st_mode & 0o7777, 0o751)
            self.assertEqual(state.st_gid, groups["casewatch"][0])
            self.assertEqual(inbox.st_mode & 0o7777, 0o3770)
            self.assertEqual(inbox.st_gid, groups["casewatch-drop"][0])
            self.assertEqual(os.stat(root / "etc/casewatch").st_mode & 0o7777, 0o750)


if __name__ == "__main__":
    unittest.main()
