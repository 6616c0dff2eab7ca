"""The crash test (issue 18): `casewatchd --once` killed with SIGKILL at random points while it
ingests three extracts, evaluates them, writes the week's review and delivers it to a real SMTP
server on loopback (python3-aiosmtpd), then started again until a run completes. After every
kill and after the completing run:

- the database passes `PRAGMA integrity_check`;
- every extract is fully in (its row, its snapshot and its record blocks, with all its rows) or
  absent (nothing of it anywhere), and nothing is in archive/ that the database has not
  committed;
- after the completing run: every extract is ingested and evaluated (no evaluation pending, an
  evaluation of each rule at each extract's as-of date), the week's review files are byte for
  byte those of a run that was never killed, no temporary file is left anywhere in the state
  folder, and every message was delivered, at most once outside the documented window (the
  server stored it and casewatchd was killed before recording it sent: the entry is found
  marked sending, and is sent again with the same Message-ID). Window hits are counted and
  printed.

The kill points are drawn uniformly over the length of an uninterrupted run (measured first),
from a seeded generator: the seed is printed, and CASEWATCH_CRASH_SEED=N repeats a run;
CASEWATCH_CRASH_ITERATIONS (default 30) sets how many. The test server takes 40 ms to answer
each DATA after storing the message, as a slow mail system does, so that kills land inside the
window often enough to count.
"""
import collections
import contextlib
import email.parser
import email.policy
import os
import pathlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from once_support import CASE_HEADER, CASES_CONFIG, CASEWATCHD, HOLIDAYS
from test_mail import MAIL_CONFIG, MailServer, have_aiosmtpd

AS_OF = "2026-11-23"
WEEK = "2026-W48"
EXTRACT_DATES = ["2026-11-09", "2026-11-16", "2026-11-23"]
ROWS = 15000
RECIPIENTS = ["head@council.example", "deputy@council.example", "north@council.example"]
REPLY_DELAY_MS = 40
RUN_DEADLINE = 120  # seconds: an uninterrupted run takes about one


def extract_csv(week_index, rows):
    """One week's cases: 400 new cases a week (the oldest leave), a tenth unallocated, and a
    few allocations that change from week to week."""
    lines = [CASE_HEADER]
    first = week_index * 400
    for n in range(first, first + rows):
        unallocated = n % 10 == 0 or n % 37 == week_index
        worker = "" if unallocated else f"Worker {n % 53}"
        allocated_on = "" if unallocated else "02/11/2026"
        referral = f"{1 + n % 28:02d}/{1 + n % 10:02d}/2026"
        lines.append(f"C{n:07d},P{n:07d},Team {n % 7},{worker},{referral},,Open,{allocated_on},")
    return ("\r\n".join(lines) + "\r\n").encode()


def extract_name(as_of):
    return f"cases_{as_of}.csv"


def message_id(raw):
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    return str(headers["Message-ID"])


class World:
    """One state folder, its config, the extracts in its inbox and its own SMTP server."""

    def __init__(self, root, extracts):
        self.root = pathlib.Path(root)
        self.state = self.root / "state"
        self.inbox = self.state / "inbox"
        self.state.mkdir(mode=0o750)
        self.inbox.mkdir(mode=0o750)
        self.server = MailServer(self.root / "mail", "--reply-delay-ms", str(REPLY_DELAY_MS))
        quoted = "[" + ", ".join(f'"{r}"' for r in RECIPIENTS) + "]"
        config = textwrap.dedent(CASES_CONFIG + MAIL_CONFIG).format(
            holidays=HOLIDAYS, port=self.server.port, to=quoted)
        config = config.replace('state_dir = "state"', f'state_dir = "{self.state}"')
        config = config.replace('socket = "state/control.sock"',
                                f'socket = "{self.state}/control.sock"')
        self.config = self.root / "casewatch.toml"
        self.config.write_text(config)
        for name, data in extracts.items():
            (self.inbox / name).write_bytes(data)
        self.runs = 0

    def start(self):
        self.runs += 1
        log = open(self.root / f"run{self.runs}.log", "wb")
        with log:
            return subprocess.Popen([str(CASEWATCHD), "--config", str(self.config), "--once",
                                     "--as-of", AS_OF], stdout=log, stderr=subprocess.STDOUT)

    def log(self, run=None):
        return (self.root / f"run{run or self.runs}.log").read_text(errors="replace")

    def database(self):
        # Read-write (never create): a kill inside a transaction before the database is in WAL
        # mode leaves a hot journal, which only a writer may roll back, as casewatchd does when
        # it starts again.
        return contextlib.closing(
            sqlite3.connect(f"file:{self.state / 'casewatch.db'}?mode=rw", uri=True))

    def has_database(self):
        return (self.state / "casewatch.db").exists()

    def deliveries(self):
        """Counter of (Message-ID, recipient) over every message the server stored."""
        counts = collections.Counter()
        for recipients, raw in self.server.messages():
            for recipient in recipients:
                counts[(message_id(raw), recipient)] += 1
        return counts

    def review_files(self):
        folder = self.state / "reports" / WEEK
        if not folder.exists():
            return {}
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    def close(self):
        self.server.stop()


class CrashTest(unittest.TestCase):
    def setUp(self):
        if not CASEWATCHD.exists():
            self.fail(f"{CASEWATCHD} is not built")
        if not have_aiosmtpd():
            self.skipTest("python3-aiosmtpd is not installed")
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="casewatch-crash-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.extracts = {extract_name(d): extract_csv(i, ROWS) for i, d in enumerate(EXTRACT_DATES)}
        self.rows = {extract_name(d): ROWS for d in EXTRACT_DATES}
        self.worlds = 0

    def world(self):
        self.worlds += 1
        root = self.tmp / f"w{self.worlds}"
        root.mkdir()
        world = World(root, self.extracts)
        self.addCleanup(world.close)
        return world

    # ---- the checks

    def assert_consistent(self, world, where, hits):
        """What must hold after any kill: an intact database, each extract whole or absent,
        nothing archived that is not committed, no message stored by the server more often than
        1 + its window hits so far (`hits`, a Counter) and none unrecorded outside the window.
        Returns the (Message-ID, recipient) pairs of the entries killed inside their send."""
        archived = {p.name for p in (world.state / "archive").glob("*")} \
            if (world.state / "archive").exists() else set()
        if not world.has_database():
            self.assertEqual(archived, set(), f"{where}: archived with no database")
            return set()
        with world.database() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok", where)
            if db.execute("PRAGMA user_version").fetchone()[0] < self.schema:
                # Killed while the schema was brought up to date (a migration is one
                # transaction): nothing can have been ingested yet.
                if "extracts" in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}:
                    self.assertEqual(db.execute("SELECT count(*) FROM extracts").fetchone()[0],
                                     0, f"{where}: extracts before the schema is complete")
                self.assertEqual(archived, set(), f"{where}: archived before the schema")
                return set()
            committed = {}
            for extract_id, file, rows, status in db.execute(
                    "SELECT id, file, rows, status FROM extracts"):
                name = pathlib.Path(file).name
                self.assertEqual(status, "ingested", f"{where}: {name} is {status}")
                self.assertNotIn(name, committed, f"{where}: {name} ingested twice")
                committed[name] = extract_id
                self.assertEqual(rows, self.rows[name], f"{where}: {name} holds {rows} rows")
                snapshots = db.execute("SELECT count(*) FROM snapshots WHERE extract_id = ?",
                                       (extract_id,)).fetchone()[0]
                self.assertEqual(snapshots, 1, f"{where}: {name} has no snapshot")
            ids = set(committed.values())
            for table in ("snapshots", "record_blocks", "key_chunks", "row_problems"):
                owners = {r[0] for r in db.execute(f"SELECT DISTINCT extract_id FROM {table}")}
                self.assertLessEqual(owners, ids, f"{where}: {table} holds rows of an extract "
                                                  "that was never committed")
            self.assertLessEqual(archived, set(committed),
                                 f"{where}: archived but not committed")
            for name in committed:
                self.assertFalse((world.inbox / name).exists() and name in archived,
                                 f"{where}: {name} both in the inbox and archived")
            killed_inside = set()
            delivered = world.deliveries()
            for recipient, raw, state, sending in db.execute(
                    "SELECT recipient, bytes, state, sending_since FROM outbox"):
                pair = (message_id(raw), recipient)
                if state == "sent":
                    self.assertIn(delivered[pair], range(1, 2 + hits[pair]),
                                  f"{where}: {pair} recorded as sent, stored by the server "
                                  f"{delivered[pair]} times")
                elif sending is not None and delivered[pair] > hits[pair]:
                    killed_inside.add(pair)  # stored by the server, not yet recorded as sent
                else:
                    self.assertLessEqual(delivered[pair], hits[pair],
                                         f"{where}: {pair} stored by the server but recorded as "
                                         f"{state}, outside the window")
            return killed_inside

    def assert_complete(self, world, reference, window_hits):
        where = f"after the completing run of {world.root.name}"
        self.assertEqual(self.assert_consistent(world, where, window_hits), set(), where)
        with world.database() as db:
            ingested = sorted(pathlib.Path(f).name for (f,) in db.execute(
                "SELECT file FROM extracts WHERE status = 'ingested'"))
            self.assertEqual(ingested, sorted(self.extracts), where)
            pending = db.execute(
                "SELECT count(*) FROM extracts WHERE evaluation_pending != 0").fetchone()[0]
            self.assertEqual(pending, 0, f"{where}: evaluations still pending")
            evaluated = set(db.execute("SELECT rule, as_of FROM evaluations"))
            self.assertEqual(evaluated, {("unallocated", d) for d in EXTRACT_DATES}, where)
            states = collections.Counter(s for (s,) in db.execute("SELECT state FROM outbox"))
            self.assertEqual(states, {"sent": len(RECIPIENTS)}, where)
        self.assertEqual(sorted(p.name for p in world.inbox.iterdir()), [], where)
        self.assertEqual(sorted(p.name for p in (world.state / "archive").iterdir()),
                         sorted(self.extracts), where)
        leftovers = [str(p) for p in world.state.rglob("*")
                     if p.name.endswith((".tmp", ".moving"))]
        self.assertEqual(leftovers, [], f"{where}: temporary files left")
        review = world.review_files()
        self.assertEqual(sorted(review), sorted(reference["review"]), where)
        for name, data in review.items():
            self.assertEqual(data, reference["review"][name], f"{where}: {name} differs")
        deliveries = world.deliveries()
        self.assertEqual(set(deliveries), reference["deliveries"], where)
        for pair, count in deliveries.items():
            self.assertIn(count, range(1, 2 + window_hits[pair]),
                          f"{where}: {pair} delivered {count} times with {window_hits[pair]} "
                          "window hits")

    # ---- the runs

    def run_to_the_end(self, world):
        process = world.start()
        try:
            code = process.wait(timeout=RUN_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            self.fail(f"casewatchd --once did not finish in {RUN_DEADLINE} s: {world.log()}")
        self.assertEqual(code, 0, f"run {world.runs} of {world.root.name}: {world.log()}")

    def kill_at(self, world, delay):
        """Starts a run and SIGKILLs it `delay` seconds in; False when it finished first."""
        process = world.start()
        try:
            code = process.wait(timeout=delay)  # the kill point, not a wait for a condition
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            world.server.wait_idle()  # what the server stores of the dead client's mail, it has
            return True
        self.assertEqual(code, 0, f"run {world.runs} of {world.root.name}: {world.log()}")
        return False

    def phase(self, world):
        """How far a killed run had got, for the printed spread of kill points."""
        if not world.has_database():
            return "start-up"
        with world.database() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] < self.schema:
                return "start-up (migrating)"
            ingested = db.execute("SELECT count(*) FROM extracts").fetchone()[0]
            pending = db.execute(
                "SELECT count(*) FROM extracts WHERE evaluation_pending != 0").fetchone()[0]
            queued = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
            sent = db.execute("SELECT count(*) FROM outbox WHERE state = 'sent'").fetchone()[0]
        if queued:
            return f"delivering ({sent} of {queued} sent)"
        if ingested < len(EXTRACT_DATES) or pending:
            return f"ingesting/evaluating ({ingested} in, {pending} pending)"
        return "review"

    def test_random_kills_lose_nothing_and_double_nothing_outside_the_window(self):
        seed = int(os.environ.get("CASEWATCH_CRASH_SEED", random.SystemRandom().randrange(2**32)))
        iterations = int(os.environ.get("CASEWATCH_CRASH_ITERATIONS", "30"))
        rng = random.Random(seed)
        print(f"\ncrash test: seed {seed} (CASEWATCH_CRASH_SEED={seed} repeats it), "
              f"{iterations} iterations", file=sys.stderr, flush=True)

        reference_world = self.world()
        started = time.monotonic()
        self.run_to_the_end(reference_world)
        length = time.monotonic() - started
        with reference_world.database() as db:
            self.schema = db.execute("PRAGMA user_version").fetchone()[0]  # the latest migration
        reference = {"review": reference_world.review_files(),
                     "deliveries": set(reference_world.deliveries())}
        self.assertEqual(sorted(reference["review"]), ["review.csv", "review.html", "review.txt"])
        self.assertEqual(len(reference["deliveries"]), len(RECIPIENTS))
        self.assert_complete(reference_world, reference, collections.Counter())
        reference_world.close()
        print(f"an uninterrupted run takes {length:.2f} s; kills drawn over [0, {length:.2f}] s",
              file=sys.stderr, flush=True)

        phases = collections.Counter()
        kills = window_hits = 0
        began = time.monotonic()
        for n in range(iterations):
            world = self.world()
            hits = collections.Counter()
            # One kill, or (one time in three) a second one while the restart recovers.
            for attempt in range(1 if rng.random() < 2 / 3 else 2):
                if not self.kill_at(world, rng.uniform(0, length)):
                    phases["finished before its kill"] += 1
                    break
                kills += 1
                phases["killed while " + self.phase(world)] += 1
                inside = self.assert_consistent(world, f"{world.root.name} after kill {attempt}",
                                                hits)
                window_hits += len(inside)
                hits.update(inside)
            self.run_to_the_end(world)
            self.assert_complete(world, reference, hits)
            world.close()
            shutil.rmtree(world.root, ignore_errors=True)

        print(f"{kills} kills in {iterations} iterations ({time.monotonic() - began:.1f} s); "
              f"window hits (stored by the server, killed before recorded as sent, sent again "
              f"with the same Message-ID): {window_hits}", file=sys.stderr)
        for phase, count in sorted(phases.items()):
            print(f"  {phase}: {count}", file=sys.stderr)
        sys.stderr.flush()


if __name__ == "__main__":
    unittest.main()
