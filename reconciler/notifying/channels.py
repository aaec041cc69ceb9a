"""Sending one message (a warning or a notice) through one notification channel: a webhook
or email over SMTP.

Owns the wire: an HTTP POST of the JSON payload, an SMTP session (starttls, ssl or plain) with
an optional login, and which of them a channel's manifest asks for (`send`). Every failure
becomes a `DeliveryError` whose message never contains the webhook URL or the password (both
are secrets). Must not decide what to send or when: messages come rendered (`Rendered`).
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import requests

from reconciler.errors import ReconcilerError
from reconciler.manifests.models import EmailChannel, SmtpSecurity, WebhookChannel
from reconciler.manifests.project import Manifest
from reconciler.manifests.values import MissingEnvironmentVariable, resolve_env_ref
from reconciler.notifying.message import Rendered

_DEFAULT_PORTS = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.SSL: 465, SmtpSecurity.NONE: 25}


class DeliveryError(ReconcilerError):
    """A message that did not reach its channel; the message is safe to print."""


def send(name: str, channel: Manifest[Any] | None, message: Rendered) -> None:
    """Send `message` through the NotificationChannel `name` (None: no channel has the name);
    `DeliveryError` when it did not get there."""
    if channel is None:
        raise DeliveryError("no NotificationChannel has this name (run `reconciler validate`)")
    spec = channel.document.spec
    _SENDERS[type(spec)](name, spec, message)


def send_webhook(name: str, channel: WebhookChannel, message: Rendered) -> None:
    url = _resolve(channel.url, f"NotificationChannel {name!r} spec.url")
    try:
        response = requests.post(url, json=message.payload,
                                 timeout=channel.timeout_seconds)
    except requests.RequestException as exc:
        # requests puts the URL in its messages: name the kind of failure only.
        raise DeliveryError(f"the webhook did not answer ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"the webhook answered HTTP {response.status_code}")


def send_email(name: str, channel: EmailChannel, message: Rendered) -> None:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = channel.from_
    email["To"] = ", ".join(channel.to)
    email.set_content(message.text)
    password = (_resolve(channel.password, f"NotificationChannel {name!r} spec.password")
                if channel.password else None)
    port = channel.port or _DEFAULT_PORTS[channel.security]
    try:
        with _connect(channel, port) as smtp:
            if channel.username and password is not None:
                smtp.login(channel.username, password)
            smtp.send_message(email)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {channel.host}:{port}: {_smtp_reason(exc)}") from None


_SENDERS: dict[type, Callable[[str, Any, Rendered], None]] = {
    WebhookChannel: send_webhook,
    EmailChannel: send_email,
}


def _connect(channel: EmailChannel, port: int) -> smtplib.SMTP:
    timeout = channel.timeout_seconds
    if channel.security is SmtpSecurity.SSL:
        return smtplib.SMTP_SSL(channel.host, port, timeout=timeout,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(channel.host, port, timeout=timeout)
    if channel.security is SmtpSecurity.STARTTLS:
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused"
    return type(exc).__name__


def _resolve(reference: str, where: str) -> str:
    try:
        return resolve_env_ref(reference, where)
    except MissingEnvironmentVariable as exc:
        raise DeliveryError(str(exc)) from None
