"""Runs the real casewatchd on a temporary config, state folder and socket, for the service's
end-to-end tests. Waits by polling with deadlines, never by sleeping blindly."""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from once_support import CASES_FIELDS_AND_RULE

BUILD_DIR = os.environ.get("CASEWATCH_BUILD_DIR", "")
SOURCE_DIR = os.environ.get(
    "CASEWATCH_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CASEWATCHD = os.path.join(BUILD_DIR, "daemon", "casewatchd")
CASEWATCH = os.path.join(BUILD_DIR, "daemon", "casewatch")
EXAMPLE_INBOX = os.path.join(SOURCE_DIR, "examples", "inbox")
DEADLINE = 30.0  # seconds: a hang fails the test instead of blocking the run

HEADER = ("Case ID,Child ID,Allocated Team,Allocated Worker,Referral Date,Closure Date,"
          "Case Status,Allocation Start,Allocation End\n")

CONFIG = """\
[service]
state_dir = "{state}"
socket = "{socket}"
timezone = "Europe/London"
holidays_file = "{source}/data/bank-holidays-england-and-wales.csv"
settle = "{settle}"
rescan = "2s"
idle_timeout = "{idle}"
socket_group = "{group}"

[[source]]
name = "cases"
files = "cases*.csv"
key = "Case ID"
date_formats = ["%d/%m/%Y", "%Y-%m-%d"]
max_bad_rows = "5%"
""" + CASES_FIELDS_AND_RULE  # no braces in it: safe to .format()


def binaries_missing():
    return not (os.access(CASEWATCHD, os.X_OK) and os.access(CASEWATCH, os.X_OK))


def cases_csv(rows):
    """A cases extract with `rows` open cases, every one unallocated since 1 June 2026."""
    lines = [HEADER]
    for i in range(rows):
        lines.append(f"C{i:07d},P{i:07d},Assessment North,,01/06/2026,,Open,,\n")
    return "".join(lines)


def wait_for(condition, what, deadline=DEADLINE):
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # a poll interval, not a wait for something to happen
    raise AssertionError(f"timed out waiting for {what}")


class Daemon:
    """casewatchd in a temporary folder. Use as a context manager."""

    def __init__(self, settle="1s", idle="2s", group=""):
        self.root = tempfile.mkdtemp(prefix="casewatch-e2e-")
        os.chmod(self.root, 0o755)
        self.state = os.path.join(self.root, "state")
        self.run_dir = os.path.join(self.root, "run")
        os.mkdir(self.run_dir)
        os.chmod(self.run_dir, 0o755)
        self.socket = os.path.join(self.run_dir, "control.sock")
        self.config = os.path.join(self.root, "casewatch.toml")
        self.settle, self.idle, self.group = settle, idle, group
        self.write_config()
        self.notify_path = os.path.join(self.root, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.log_path = os.path.join(self.root, "casewatchd.log")
        self.process = None
        self.env = {}  # casewatchd's environment beside the tests' own; None removes a name

    def write_config(self, text=None):
        if text is None:
            text = CONFIG.format(state=self.state, socket=self.socket, source=SOURCE_DIR,
                                 settle=self.settle, idle=self.idle, group=self.group)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([CASEWATCHD, "--config", self.config], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_notification("READY=1")
        wait_for(self.connectable, "the control socket")
        return self

    def connectable(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(self.socket)
            return True
        except OSError:
            if self.process.poll() is not None:
                raise AssertionError(f"casewatchd exited {self.process.returncode}: {self.logs()}")
            return False

    def wait_notification(self, wanted):
        """Reads sd_notify datagrams until one holds `wanted`; returns every one read."""
        seen = []
        give_up = time.monotonic() + DEADLINE
        while time.monotonic() < give_up:
            self.notify.settimeout(max(0.01, give_up - time.monotonic()))
            try:
                message = self.notify.recv(4096).decode()
            except socket.timeout:
                break
            seen.append(message)
            if wanted in message.split("\n"):
                return seen
        raise AssertionError(f"no {wanted} from casewatchd; got {seen}; log: {self.logs()}")

    def logs(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def ask(self, command, arguments=None, **extra):
        request = {"command": command}
        if arguments is not None:
            request["arguments"] = arguments
        request.update(extra)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(DEADLINE)
            s.connect(self.socket)
            s.sendall((json.dumps(request) + "\n").encode())
            return json.loads(read_line(s))

    def client(self, *args, user=None):
        command = [CASEWATCH, "--socket", self.socket, *args]
        if user is not None:
            entry = pwd.getpwnam(user)
            command = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                       "--clear-groups", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=DEADLINE)

    def inbox(self):
        return os.path.join(self.state, "inbox")

    def drop(self, name, text):
        """Writes `text` beside the inbox and renames it in, as export jobs should."""
        staging = os.path.join(self.root, name)
        with open(staging, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(staging, os.path.join(self.inbox(), name))

    def wait_ingested(self, name):
        def done():
            status = self.ask("status")["arguments"]
            files = [s.get("file") for s in status["sources"]]
            return status if name in files and not status["cycle_running"] else None
        return wait_for(done, f"{name} to be ingested")

    def stop(self, sig=signal.SIGTERM):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("casewatchd did not stop after " + sig.name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.notify.close()
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def read_line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()
