#!/usr/bin/env python3
"""A real SMTP server for samverkan's mail tests (aiosmtpd).

Writes each accepted message to OUT/<n>.eml and a decoded summary to OUT/<n>.json (to, subject,
message_id, language, text, html, whether the session used TLS and authentication), and prints
"PORT <n>" on a line of its own when it listens. Options:
  --port N             listen on N (default: a free port)
  --tls CERT KEY       offer STARTTLS with this certificate and require it before mail
  --auth USER:PASS     require AUTH (PLAIN/LOGIN) with these credentials (needs --tls)
  --stall-first K      hold the first K messages after DATA without answering (a sender killed
                       mid-send never hears 250, so nothing is accepted); prints "STALL" each time
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import warnings

# aiosmtpd 1.4 warns about its own use of Session.login_data.
warnings.filterwarnings("ignore", category=DeprecationWarning)

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, out, stall_first):
        self.out = out
        self.stall_left = stall_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.stall_left > 0:
            self.stall_left -= 1
            print("STALL", flush=True)
            await asyncio.sleep(3600)
            return "451 stalled"
        self.count += 1
        n = self.count
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        summary = {
            "to": list(envelope.rcpt_tos),
            "from": envelope.mail_from,
            "subject": str(msg["subject"]),
            "message_id": str(msg["message-id"]),
            "language": str(msg.get("content-language", "")),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "tls": session.ssl is not None,
            "authenticated": bool(getattr(session, "authenticated", False)),
        }
        tmp = os.path.join(self.out, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(raw)
        os.replace(tmp, os.path.join(self.out, f"{n}.eml"))
        tmp = os.path.join(self.out, f".{n}.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.out, f"{n}.json"))
        return "250 OK"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        return AuthResult(success=ok)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth")
    p.add_argument("--stall-first", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    handler = Handler(a.dir, a.stall_first)
    kwargs = {}
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, _, password = a.auth.partition(":")
        kwargs.update(
            authenticator=Authenticator(user, password),
            auth_required=True,
            auth_require_tls=True,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", **kwargs), "127.0.0.1", a.port
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
