"""The man pages render without a warning, and bash completion offers every command and option
`casewatch --help` lists."""
import os
import pathlib
import re
import shutil
import subprocess
import unittest

SOURCE_DIR = pathlib.Path(os.environ.get("CASEWATCH_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("CASEWATCH_BUILD_DIR", SOURCE_DIR / "build"))
MAN_DIR = SOURCE_DIR / "packaging" / "man"
COMPLETION = SOURCE_DIR / "packaging" / "bash-completion" / "casewatch"
CASEWATCH = BUILD_DIR / "daemon" / "casewatch"


class ManPagesTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("man") is None:
            self.skipTest("man (man-db) is not installed")

    def test_each_page_renders_without_warnings(self):
        pages = sorted(MAN_DIR.iterdir())
        self.assertEqual([p.name for p in pages],
                         ["casewatch.1", "casewatch.toml.5", "casewatchd.8"])
        for page in pages:
            with self.subTest(page=page.name):
                # What lintian runs for manpage-has-errors-from-man.
                result = subprocess.run(
                    ["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)],
                    capture_output=True, text=True, timeout=60,
                    env={**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, "")
                self.assertGreater(len(result.stdout), 1000)

    def test_pages_name_each_other_and_the_options(self):
        daemon = (MAN_DIR / "casewatchd.8").read_text(encoding="utf-8")
        for option in ["\\-\\-config", "\\-\\-check", "\\-\\-once", "\\-\\-as\\-of", "\\-\\-json",
                       "\\-\\-note", "\\-\\-version", "JOURNAL_STREAM"]:
            self.assertIn(option, daemon)
        self.assertIn(".BR casewatch.toml (5)", daemon)


def complete(words):
    """What bash completion offers after `casewatch WORDS...` (the last word being completed)."""
    script = (f"source {COMPLETION}\n"
              "COMP_WORDS=(casewatch \"$@\"); COMP_CWORD=$#\n"
              "_casewatch\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "-c", script, "bash", *words], capture_output=True,
                            text=True, timeout=30, check=True)
    return set(result.stdout.split())


class CompletionTest(unittest.TestCase):
    def setUp(self):
        if not CASEWATCH.exists():
            self.fail(f"{CASEWATCH} is not built")
        usage = subprocess.run([str(CASEWATCH), "--help"], capture_output=True, text=True,
                               check=True, timeout=30).stdout
        # "commands:" is followed by one command a line (the last holds several, "a | b"),
        # with the options it takes; continuation lines start with "(" or a space run.
        self.commands = {}
        lines = usage.split("commands:", 1)[1].splitlines()
        for line in lines:
            stripped = line.strip()
            if not line.startswith("  ") or line.startswith("   ") or not stripped:
                continue
            if "[" in stripped or "(" in stripped:
                self.commands[stripped.split()[0]] = set(re.findall(r"--[a-z][a-z-]*", stripped))
            else:
                for part in stripped.split(" | "):
                    self.commands[part.split()[0]] = set()
        self.assertIn("findings", self.commands)
        self.assertIn("shutdown", self.commands)

    def test_every_command_is_offered(self):
        self.assertLessEqual(set(self.commands), complete([""]))
        self.assertEqual(complete(["fin"]), {"findings"})
        self.assertLessEqual({"--socket", "--json"}, complete(["--"]))

    def test_every_option_of_each_command_is_offered(self):
        for command, options in self.commands.items():
            with self.subTest(command=command):
                self.assertLessEqual(options | {"--json"}, complete([command, "--"]))

    def test_fixed_values_are_offered(self):
        self.assertEqual(complete(["review", "--format", ""]), {"text", "html", "csv"})
        self.assertEqual(complete(["findings", "--status", ""]), {"new", "carried"})
        self.assertEqual(complete(["outbox", "re"]), {"retry"})
        self.assertEqual(complete(["--socket", "/run/x.sock", "stat"]), {"status"})


if __name__ == "__main__":
    unittest.main()
