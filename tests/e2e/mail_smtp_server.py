#!/usr/bin/python3
"""A real SMTP server on loopback for casewatch's mail tests (Debian's python3-aiosmtpd).

Listens on 127.0.0.1 on a free port, prints "PORT <n>" on stdout once it accepts connections,
stores each accepted message as <dir>/<n>.eml (the exact DATA bytes) with <n>.rcpt beside it
(one recipient a line), and exits when its stdin closes. A line "IDLE" on stdin is answered
with "IDLE" on stdout once no client is connected (so every message a killed client left is
stored, or never will be). Options:
  --dir DIR            where messages go (required)
  --reject ADDR        answer RCPT TO ADDR with 550 (repeatable)
  --defer ADDR         answer RCPT TO ADDR with 451 (repeatable)
  --tls CERT KEY       offer STARTTLS with this certificate and require it
  --auth USER PASS     require AUTH (PLAIN/LOGIN) with these credentials
  --port N             listen on N instead of a free port (to bring a server "back up")
  --kill-after-store PIDFILE
                       once a message is stored, SIGKILL the process whose pid PIDFILE holds
                       (then remove PIDFILE, so only once), before answering 250: the sender
                       dies with its message accepted but not yet marked sent
  --reply-delay-ms N   answer each DATA N ms after storing the message, as a slow mail system
                       does (a sender killed meanwhile has its message stored but unanswered)
"""
import argparse
import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, folder, reject, defer, kill_after_store=None, reply_delay=0.0):
        self.folder = folder
        self.reply_delay = reply_delay
        self.kill_after_store = kill_after_store
        self.reject = set(a.lower() for a in reject)
        self.defer = set(a.lower() for a in defer)
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 no such mailbox"
        if address.lower() in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.folder, "%d" % self.count)
        with open(base + ".rcpt.tmp", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".rcpt.tmp", base + ".rcpt")
        os.rename(base + ".eml.tmp", base + ".eml")
        if self.kill_after_store and os.path.exists(self.kill_after_store):
            with open(self.kill_after_store) as f:
                pid = int(f.read())
            os.unlink(self.kill_after_store)
            os.kill(pid, signal.SIGKILL)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)  # the slow server's latency, not a wait
        return "250 OK message accepted"


class Connections:
    """The SMTP sessions open now, and an event set whenever there are none."""

    def __init__(self):
        self.open = set()
        self.idle = asyncio.Event()
        self.idle.set()


def counting_smtp(connections):
    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            connections.open.add(self)
            connections.idle.clear()
            super().connection_made(transport)

        def connection_lost(self, error):
            # aiosmtpd cancels the session's task here: it stores nothing after this.
            super().connection_lost(error)
            connections.open.discard(self)
            if not connections.open:
                connections.idle.set()

    return CountingSMTP


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return authenticate


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--tls", nargs=2)
    parser.add_argument("--auth", nargs=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kill-after-store")
    parser.add_argument("--reply-delay-ms", type=int, default=0)
    args = parser.parse_args()

    handler = Handler(args.dir, args.reject, args.defer, args.kill_after_store,
                      args.reply_delay_ms / 1000.0)
    kwargs = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        kwargs.update(tls_context=context, require_starttls=True)
    if args.auth:
        kwargs.update(authenticator=authenticator_for(*args.auth), auth_required=True,
                      auth_require_tls=bool(args.tls))

    loop = asyncio.get_running_loop()
    connections = Connections()
    smtp = counting_smtp(connections)
    server = await loop.create_server(lambda: smtp(handler, hostname="localhost", **kwargs),
                                      "127.0.0.1", args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)
    # Serve until stdin closes, answering IDLE.
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if line.strip() == "IDLE":
            await connections.idle.wait()
            print("IDLE", flush=True)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
