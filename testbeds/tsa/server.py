#!/usr/bin/env python3
"""A local RFC 3161 time-stamp authority for tests (loopback only).

Usage: server.py PKI_DIR [PORT]. Binds 127.0.0.1:PORT (0: a free port),
prints "PORT <n>" on stdout, then answers each POST of an
application/timestamp-query with `openssl ts -reply` (test CA and TSA
certificate from testbeds/tsa/setup.sh; domain/protocol-documents.md §9.1)
as application/timestamp-reply. Each server keeps its own serial file, so
several can run at once. Standard library only.
"""
import http.server
import os
import subprocess
import sys
import tempfile
import threading

PKI = os.path.abspath(sys.argv[1])
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
STATE = tempfile.mkdtemp(prefix="palazzo-tsa-")
LOCK = threading.Lock()

with open(os.path.join(STATE, "serial"), "w") as f:
    f.write("01\n")
CONFIG = os.path.join(STATE, "tsa.cnf")
with open(CONFIG, "w") as f:
    f.write(f"""[tsa]
default_tsa = tsa_config1
[tsa_config1]
dir = {STATE}
serial = {STATE}/serial
crypto_device = builtin
signer_cert = {PKI}/tsa.crt
signer_key = {PKI}/tsa.key
certs = {PKI}/ca.crt
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.headers.get("Content-Type", "") != "application/timestamp-query":
            self.send_error(415, "expected application/timestamp-query")
            return
        with LOCK:
            q = os.path.join(STATE, "req.tsq")
            r = os.path.join(STATE, "resp.tsr")
            with open(q, "wb") as f:
                f.write(body)
            p = subprocess.run(
                ["openssl", "ts", "-reply", "-config", CONFIG, "-queryfile", q, "-out", r],
                capture_output=True,
            )
            if p.returncode != 0:
                sys.stderr.write(p.stderr.decode(errors="replace"))
                self.send_error(400, "bad request")
                return
            with open(r, "rb") as f:
                reply = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, fmt, *args):
        sys.stderr.write("tsa: " + (fmt % args) + "\n")


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
