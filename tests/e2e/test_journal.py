"""casewatchd's log lines carry syslog priorities when standard error is the journal: systemd
sets JOURNAL_STREAM to the stream's device:inode, and journald reads a leading "<N>"."""
import os
import subprocess
import unittest

from once_support import CASE_HEADER, CASEWATCHD, OnceTestCase


def run_with_stderr_pipe(args, cwd, journal):
    """Runs casewatchd with stderr on a pipe; JOURNAL_STREAM names that pipe when `journal`,
    another file (the config) when not. Returns (exit status, stderr text)."""
    read_end, write_end = os.pipe()
    env = dict(os.environ)
    st = os.fstat(write_end) if journal else os.stat(cwd / "casewatch.toml")
    env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    try:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                   stderr=write_end)
    finally:
        os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as stream:
        text = stream.read()
    return process.wait(timeout=120), text


class JournalPrioritiesTest(OnceTestCase):
    def drop_extracts(self):
        rows = [
            "C1,P1,North,,01/09/2026,,Open,,",
            "C2,P2,North,Ann,01/09/2026,,Open,01/09/2026,",
        ]
        (self.inbox / "cases_2026-11-23.csv").write_text(
            CASE_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        # A header and no rows: rejected, with a warning.
        (self.inbox / "cases_2026-11-24.csv").write_text(CASE_HEADER + "\n", encoding="utf-8")

    def test_lines_carry_priorities_when_stderr_is_the_journal(self):
        self.drop_extracts()
        status, text = run_with_stderr_pipe(
            [str(CASEWATCHD), "--config", str(self.config), "--once", "--as-of", "2026-11-24"],
            self.tmp, journal=True)
        self.assertEqual(status, 0, text)
        lines = text.splitlines()
        self.assertTrue(lines, "casewatchd logged nothing")
        for line in lines:
            self.assertRegex(line, r"^<[2-7]>casewatchd: ")
        self.assertTrue(any(line.startswith("<6>casewatchd: info: ") for line in lines), text)
        self.assertTrue(any(line.startswith("<4>casewatchd: warning: ") and
                            "cases_2026-11-24.csv" in line for line in lines), text)

    def test_a_configuration_error_is_priority_three(self):
        self.write_config(self.config_text + "\nnot_a_key = 1\n")
        status, text = run_with_stderr_pipe(
            [str(CASEWATCHD), "--config", str(self.config), "--once"], self.tmp, journal=True)
        self.assertEqual(status, 78, text)
        self.assertTrue(text)
        for line in text.splitlines():
            self.assertTrue(line.startswith("<3>"), text)
        self.assertIn("unknown key 'not_a_key'", text)

    def test_lines_are_plain_when_journal_stream_names_another_file(self):
        self.drop_extracts()
        status, text = run_with_stderr_pipe(
            [str(CASEWATCHD), "--config", str(self.config), "--once", "--as-of", "2026-11-24"],
            self.tmp, journal=False)
        self.assertEqual(status, 0, text)
        self.assertIn("casewatchd: warning: ", text)
        for line in text.splitlines():
            self.assertFalse(line.startswith("<"), text)


if __name__ == "__main__":
    unittest.main()
