"""A webhook receiver for tests/api/webhooks_out.rs: verifies each delivery with PyPI's
`standardwebhooks` (an independent implementation of the Standard Webhooks scheme) and writes the
verified ones to a folder, one JSON file each (1.json, 2.json, ...), with the headers and the body.

Usage: receiver.py --secret whsec_... --dir OUT [--port N]
Prints "PORT <n>" once it listens on 127.0.0.1 (port 0: one the system picks). Answers 204 to a
verified delivery, 401 to one that does not verify (written to OUT/rejected-<n>.json).
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    hook = Webhook(args.secret)
    counter = {"ok": 0, "bad": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            record = {"path": self.path, "headers": headers, "body": body.decode("utf-8", "replace")}
            try:
                payload = hook.verify(body, headers)
            except Exception as e:  # any verification failure
                counter["bad"] += 1
                record["error"] = str(e)
                write(os.path.join(args.dir, f"rejected-{counter['bad']}.json"), record)
                self.send_response(401)
                self.end_headers()
                return
            counter["ok"] += 1
            record["payload"] = payload
            write(os.path.join(args.dir, f"{counter['ok']}.json"), record)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a) -> None:
            pass

    server = HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def write(path: str, record: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
