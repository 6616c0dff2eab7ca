"""End-to-end: casewatchd's systemd notifications (NOTIFY_SOCKET) never make it wait. Its socket
here is read only until READY=1 and then never again, as a wedged manager or a test harness
would leave it; the socket's queue (net.unix.max_dgram_qlen datagrams) fills, and libsystemd's
sd_notify() blocked the daemon's loop there."""
import socket
import unittest

from service_daemon import Daemon, binaries_missing


def setUpModule():
    if binaries_missing():
        raise unittest.SkipTest("casewatchd and casewatch are not built (CASEWATCH_BUILD_DIR)")


def queue_length():
    with open("/proc/sys/net/unix/max_dgram_qlen", encoding="ascii") as f:
        return int(f.read())


class NotifyTest(unittest.TestCase):
    def test_an_unread_notify_socket_never_blocks_the_daemon(self):
        with Daemon() as daemon:
            # Each reload sends RELOADING=1, READY=1 and a STATUS=: three datagrams. Enough
            # reloads to fill the queue several times over; each must still be answered.
            reloads = queue_length() // 3 + 20
            for i in range(reloads):
                reply = daemon.ask("reload", id=i)
                self.assertEqual((reply["result"], reply["id"]), (0, i), reply)
            self.assertEqual(daemon.ask("status")["result"], 0)
            logs = daemon.logs()
            dropped = [line for line in logs.splitlines() if "is not being read" in line]
            self.assertEqual(len(dropped), 1, logs)  # a line a minute at most
            self.assertIn(daemon.notify_path, dropped[0])

            # What was queued is whole protocol messages, in order, and a reader that reads again
            # gets the next ones exactly.
            daemon.notify.settimeout(0)
            queued = []
            try:
                while True:
                    queued.append(daemon.notify.recv(4096).decode())
            except BlockingIOError:
                pass
            self.assertTrue(queued)
            self.assertLessEqual(len(queued), queue_length() + 1)  # Linux queues one more
            for message in queued:
                self.assertRegex(message, r"^(RELOADING=1\nMONOTONIC_USEC=\d+|READY=1|STATUS=.+)$")
            daemon.notify.settimeout(None)
            self.assertEqual(daemon.ask("reload")["result"], 0)
            self.assertEqual(daemon.wait_notification("READY=1")[-1], "READY=1")


if __name__ == "__main__":
    unittest.main()
