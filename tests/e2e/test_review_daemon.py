"""End-to-end: the weekly review as a management record, through the running casewatchd.
Daily extracts are dropped into its inbox over three weeks and the service produces each
Monday's review at its scheduled time, as it would in a council: the same scenario as
test_review_history's `--once` one. The service's clock is the tests' clock
(CASEWATCH_TEST_CLOCK): it starts on the scenario's first day and each Monday is moved to just
before the review's time, then SIGHUP arms the timers again from there."""
import csv
import datetime
import io
import os
import signal
import unittest

from service_daemon import CONFIG, Daemon, SOURCE_DIR, binaries_missing, wait_for
import test_review_history as once_scenario  # its extracts (a module: not its test classes)

MONDAY_W47 = once_scenario.MONDAY_W47


class ClockedDaemon(Daemon):
    """Reads the service's sd_notify datagrams before each request: three weeks of cycles send
    more STATUS= lines than the notify socket holds, and sd_notify blocks when it is full (as
    systemd, which reads them all, never lets it be)."""

    def ask(self, command, arguments=None, **extra):
        self.notify.setblocking(False)
        try:
            while True:
                self.notify.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self.notify.setblocking(True)
        return super().ask(command, arguments, **extra)


def review_files(daemon, week):
    folder = os.path.join(daemon.state, "reports", week)
    with open(os.path.join(folder, "review.txt"), encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(folder, "review.csv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    return text, {row["key"]: row for row in rows if row["status"] != "resolved"}


@unittest.skipIf(binaries_missing(), "casewatchd and casewatch are not built")
class DailyDropsReviewedByTheService(unittest.TestCase):
    def setUp(self):
        self.daemon = ClockedDaemon()
        self.addCleanup(self.daemon.__exit__, None, None, None)
        self.clock = os.path.join(self.daemon.root, "clock")
        # casewatchd refuses the tests' clock when systemd started it (INVOCATION_ID).
        self.daemon.env = {"CASEWATCH_TEST_CLOCK": self.clock, "INVOCATION_ID": None}
        # The --once scenario's rule: 'MASH' is not a worker.
        self.daemon.write_config(
            CONFIG.format(state=self.daemon.state, socket=self.daemon.socket, source=SOURCE_DIR,
                          settle="1s", idle="2s", group="") +
            'not_a_worker = ["Unallocated", "Duty", "Duty Worker", "#N/A", "N/A", "MASH"]\n')

    def set_clock(self, when):
        """The service's time is now `when` (UTC), running on from there."""
        staging = self.clock + ".new"
        with open(staging, "w", encoding="utf-8") as f:
            f.write(when.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
        os.replace(staging, self.clock)

    def drop_day(self, day):
        self.set_clock(datetime.datetime.combine(day, datetime.time(6, 0)))
        name = f"cases_{day.isoformat()}.csv"
        self.daemon.drop(name, once_scenario.extract(day))
        self.daemon.wait_ingested(name)

    def monday_review(self, monday):
        """The Monday's extract is in; the clock reaches the review's time (Monday 07:00, GMT)."""
        week = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
        self.set_clock(datetime.datetime.combine(monday, datetime.time(6, 59, 55)))
        self.daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: self.daemon.ask("status")["arguments"]["last_review_week"] == week,
                 f"the scheduled review of {week}")
        # The scheduled run, on time: not a late one made up at a start-up.
        self.assertIn(f"review of {week} written to", self.daemon.logs())
        return review_files(self.daemon, week)

    def test_three_weeks_of_daily_extracts(self):
        self.set_clock(datetime.datetime.combine(MONDAY_W47 - datetime.timedelta(days=6),
                                                 datetime.time(6, 0)))
        self.daemon.start()
        self.assertIn("CASEWATCH_TEST_CLOCK is set", self.daemon.logs())
        # The service's idea of the next review: the scenario's first Monday, not the real one.
        self.assertEqual(self.daemon.ask("status")["arguments"]["next_review"],
                         "2026-11-16T07:00:00Z")

        day = MONDAY_W47 - datetime.timedelta(days=6)  # Tue 10 Nov
        reviews = {}
        for monday in (MONDAY_W47, MONDAY_W47 + datetime.timedelta(days=7),
                       MONDAY_W47 + datetime.timedelta(days=14)):
            while day <= monday:
                self.drop_day(day)
                day += datetime.timedelta(days=1)
            reviews[monday] = self.monday_review(monday)

        text, items = reviews[MONDAY_W47]
        self.assertIn("First review: there is no earlier review to compare with", text)
        self.assertEqual(sorted(items), ["A", "D", "E"])
        self.assertEqual(items["A"]["status"], "new")

        # Week 48: C joined the list on Tuesday 17 Nov: NEW on Monday's review.
        text, items = reviews[MONDAY_W47 + datetime.timedelta(days=7)]
        self.assertIn("Compared with the review of 2026-W47 (as of 16 Nov 2026).", text)
        self.assertEqual(sorted(items), ["A", "C", "D", "E"])
        self.assertEqual((items["C"]["status"], items["C"]["weeks_on_list"]), ("new", "0"))
        self.assertEqual((items["A"]["status"], items["A"]["weeks_on_list"]), ("carried", "1"))
        self.assertNotIn("0 weeks", text)

        # Week 49: A was on the reviews of W47 and W48: CARRIED (2 weeks); D was allocated.
        text, items = reviews[MONDAY_W47 + datetime.timedelta(days=14)]
        self.assertIn("Compared with the review of 2026-W48 (as of 23 Nov 2026).", text)
        self.assertEqual(sorted(items), ["A", "C", "E"])
        self.assertEqual((items["A"]["status"], items["A"]["weeks_on_list"]), ("carried", "2"))
        self.assertEqual((items["C"]["status"], items["C"]["weeks_on_list"]), ("carried", "1"))
        self.assertIn("CARRIED (2 weeks)", text)


if __name__ == "__main__":
    unittest.main()
