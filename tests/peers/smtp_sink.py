#!/usr/bin/env python3
"""An SMTP server (aiosmtpd) that receives the hub's notification e-mails for
tests/e2e/notify.rs.

Prints `ready <port>` once it listens on 127.0.0.1, then one JSON line per message:
{"mail_from", "rcpt_tos", "subject", "message_id", "content_type", "body"}, with the
subject and the text body decoded by Python's own e-mail parser (RFC 2047 words,
quoted-printable or base64, the charset), so the test checks what a mail client shows.
Runs until its standard input closes.
"""
import asyncio
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "message_id": str(msg["message-id"]),
            "content_type": part.get_content_type() if part is not None else None,
            "body": part.get_content() if part is not None else None,
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
