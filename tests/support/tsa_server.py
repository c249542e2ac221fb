#!/usr/bin/env python3
"""A real RFC 3161 timestamp authority for tests (issue 14, "a timestamp authority when configured").

Usage: tsa_server.py DIR [--tls] — DIR holds tsa.key, tsa.crt (extendedKeyUsage critical timeStamping)
and tsa.cnf (an openssl config with a [tsa] section), made by the test with the `openssl` command.
With --tls it answers over HTTPS with DIR/server.crt and DIR/server.key (a server certificate the
test issued from its own CA).
Listens on 127.0.0.1, port 0 (the kernel picks one), prints the port on its first line, and answers
each POST (a DER TimeStampReq) with `openssl ts -reply`. The test stops it by its PID.
"""
import os
import ssl
import subprocess
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, HTTPServer

DIR = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        query = self.rfile.read(length)
        with tempfile.TemporaryDirectory() as tmp:
            q = os.path.join(tmp, "q.tsq")
            r = os.path.join(tmp, "r.tsr")
            with open(q, "wb") as f:
                f.write(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", os.path.join(DIR, "tsa.cnf"),
                 "-queryfile", q, "-out", r],
                capture_output=True,
            )
            if done.returncode != 0:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(done.stderr)
                return
            with open(r, "rb") as f:
                reply = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
if "--tls" in sys.argv[2:]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(DIR, "server.crt"), os.path.join(DIR, "server.key"))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
