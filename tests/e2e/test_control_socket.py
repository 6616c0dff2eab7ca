"""End-to-end: the control socket of the real casewatchd when the process runs out of file
descriptors. Its descriptor limit is lowered from outside (prlimit) to its lowest free descriptor,
so accept() fails with EMFILE while a real client's connection waits in the backlog."""
import json
import os
import resource
import socket
import time
import unittest

from service_daemon import Daemon, binaries_missing, read_line, wait_for

# The pauses after each failed accept (server.cpp): 50 ms, doubling up to 1 s.
PAUSES = [0.05, 0.1, 0.2, 0.4, 0.8] + [1.0] * 100
EPISODE = 1.5  # seconds the daemon is held without a free descriptor


def setUpModule():
    if binaries_missing():
        raise unittest.SkipTest("casewatchd and casewatch are not built (CASEWATCH_BUILD_DIR)")


def lowest_free_descriptor(pid):
    used = {int(name) for name in os.listdir(f"/proc/{pid}/fd")}
    return next(fd for fd in range(len(used) + 1) if fd not in used)


def most_accepts(seconds):
    """How many accepts can fail in `seconds` with the pauses above: one at once, then one after
    each pause that has ended (timers never end early)."""
    attempts, elapsed = 1, 0.0
    for pause in PAUSES:
        elapsed += pause
        if elapsed > seconds:
            break
        attempts += 1
    return attempts


def open_sockets(pid):
    """How many sockets process `pid` has open (a descriptor closed while counting is not)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:
            pass
    return count


class OutOfDescriptorsTest(unittest.TestCase):
    def test_accept_pauses_instead_of_spinning_and_serves_the_waiting_client_afterwards(self):
        daemon = Daemon()
        # No rescan while the daemon has no descriptor to spare (a listing needs one).
        with open(daemon.config, encoding="utf-8") as f:
            daemon.write_config(f.read().replace('rescan = "2s"', 'rescan = "1h"'))
        with daemon:
            pid = daemon.process.pid
            saved = resource.prlimit(pid, resource.RLIMIT_NOFILE)
            client = None
            try:
                for _ in range(5):
                    client, start = self.starve(daemon, pid, saved)
                    if client is not None:
                        break
                self.assertIsNotNone(client, "no accept failed in 5 tries")
                with client:
                    # The measured episode: the daemon has no descriptor for this long.
                    time.sleep(max(0.0, EPISODE - (time.monotonic() - start)))
                    resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)
                    episode = time.monotonic() - start
                    # Within its longest pause (1 s) the daemon takes the waiting connection.
                    client.sendall(b'{"command": "status", "id": 7}\n')
                    reply = json.loads(read_line(client))
            finally:
                resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)
            self.assertEqual(reply["result"], 0)
            self.assertEqual(reply["id"], 7)
            self.assertEqual(daemon.ask("status")["result"], 0)

            log = daemon.logs().splitlines()
            failed = [line for line in log if "accept failed" in line]
            self.assertEqual(len(failed), 1, failed)  # one line for the episode, not one a try
            self.assertIn("Too many open files", failed[0])
            again = [line for line in log if "failed accept" in line]
            self.assertEqual(len(again), 1, log)
            attempts = int(again[0].split("accepting again after ")[1].split()[0])
            # Not a spin: a few attempts, no more than the pauses allow over the episode (and
            # the 1 s the last pause may run past it), and more than one.
            self.assertGreaterEqual(attempts, 2)
            self.assertLessEqual(attempts, most_accepts(episode + 1.0), again[0])

    def starve(self, daemon, pid, saved):
        """Lowers the daemon's descriptor limit to its lowest free descriptor and connects a
        client, which waits in the backlog while accept() fails. Returns the client and when the
        limit was lowered, or (None, None) if the daemon accepted it anyway: a descriptor it held
        for a moment (its pool's start-up work opens and closes a few) was freed under the limit.
        The limit is then restored for the caller to try again."""
        # Counted once the session of the harness's readiness probe (or of an earlier try) is
        # closed: only the listening socket is left.
        wait_for(lambda: open_sockets(pid) == 1, "the earlier sessions to close")
        start = time.monotonic()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (lowest_free_descriptor(pid), saved[1]))
        client = socket.socket(socket.AF_UNIX)
        client.settimeout(30)
        client.connect(daemon.socket)  # queued in the backlog: accept() gets EMFILE
        outcome = wait_for(lambda: ("failed" if "accept failed" in daemon.logs() else
                                    "accepted" if open_sockets(pid) > 1 else None),
                           "a failed accept")
        if outcome == "failed":
            return client, start
        client.close()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)
        return None, None


if __name__ == "__main__":
    unittest.main()
