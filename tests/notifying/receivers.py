"""Local receivers for warnings: a webhook (http.server) and an SMTP server (aiosmtpd), both
on real sockets on 127.0.0.1, recording what they got."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER, SMTP_PASSWORD = "alerts", "smtp-test-password"


@dataclass
class WebhookReceiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A webhook on a free port answering `status` and keeping every JSON body it got."""
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            receiver.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(receiver.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/crm"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpReceiver:
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.receiver.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """An SMTP server (plain, AUTH allowed without TLS) accepting one login."""
    receiver = SmtpReceiver(port=free_port())

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (_text(data.login), _text(data.password)) == (
            SMTP_USER, SMTP_PASSWORD)
        if ok:
            receiver.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    controller = Controller(_Handler(receiver), hostname="127.0.0.1", port=receiver.port,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


def mail_channel(port: int) -> str:
    """A NotificationChannel document for the SMTP receiver (password from $SMTP_PASSWORD)."""
    return ("apiVersion: reconciler/v1\nkind: NotificationChannel\nmetadata: {name: crm-mail}\n"
            f"spec:\n  type: email\n  host: 127.0.0.1\n  port: {port}\n  security: none\n"
            f"  username: {SMTP_USER}\n  password: ${{env:SMTP_PASSWORD}}\n"
            "  from: reconciler@example.com\n  to: [crm@example.com, ops@example.com]\n")
