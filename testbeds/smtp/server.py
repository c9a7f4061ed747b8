#!/usr/bin/env python3
"""A local SMTP server for tests (loopback only), built on aiosmtpd.

Usage: server.py PORT OUT_DIR [--refuse ADDRESS]...

Listens on 127.0.0.1:PORT and prints "READY <port>" on stdout once it
accepts connections. Each message received is written to OUT_DIR as one
JSON file, NNNNNN.json (in order of arrival), written to a temporary name
and renamed, so a reader never sees half a file:

    {"mail_from": "...", "rcpt_tos": ["..."], "data": "<base64 of the
     message bytes exactly as received after DATA>"}

A recipient given with --refuse is answered "550 5.1.1 mailbox
unavailable" at RCPT TO (a permanent refusal). Stops on SIGTERM/SIGINT.
"""
import base64
import itertools
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print("usage: server.py PORT OUT_DIR [--refuse ADDRESS]...", file=sys.stderr)
        sys.exit(2)
    port, out = int(args[0]), os.path.abspath(args[1])
    refused = set()
    rest = args[2:]
    while rest:
        if rest[0] == "--refuse" and len(rest) > 1:
            refused.add(rest[1].lower())
            rest = rest[2:]
        else:
            print(f"unknown argument {rest[0]}", file=sys.stderr)
            sys.exit(2)
    os.makedirs(out, exist_ok=True)
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.lower() in refused:
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            data = envelope.original_content or envelope.content
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogateescape")
            with lock:
                n = next(counter)
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": base64.b64encode(data).decode("ascii"),
            }
            tmp = os.path.join(out, f".{n:06d}.tmp")
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(out, f"{n:06d}.json"))
            return "250 2.0.0 OK: queued as %06d" % n

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="smtp.test.invalid",
        decode_data=False,
        enable_SMTPUTF8=True,
    )
    controller.start()
    print(f"READY {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
