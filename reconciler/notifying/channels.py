"""Sending one warning through one notification channel: a webhook or email over SMTP.

Owns the wire: an HTTP POST of the JSON payload, an SMTP session (starttls, ssl or plain) with
an optional login. Every failure becomes a `DeliveryError` whose message never contains the
webhook URL or the password (both are secrets). Must not decide what to send or when.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import requests

from reconciler.errors import ReconcilerError
from reconciler.manifests.models import EmailChannel, SmtpSecurity, WebhookChannel
from reconciler.manifests.values import MissingEnvironmentVariable, resolve_env_ref
from reconciler.notifying.message import Warning_, render_payload, render_subject, render_text

_DEFAULT_PORTS = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.SSL: 465, SmtpSecurity.NONE: 25}


class DeliveryError(ReconcilerError):
    """A warning that did not reach its channel; the message is safe to print."""


def send_webhook(name: str, channel: WebhookChannel, warning: Warning_) -> None:
    url = _resolve(channel.url, f"NotificationChannel {name!r} spec.url")
    try:
        response = requests.post(url, json=render_payload(warning),
                                 timeout=channel.timeout_seconds)
    except requests.RequestException as exc:
        # requests puts the URL in its messages: name the kind of failure only.
        raise DeliveryError(f"the webhook did not answer ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"the webhook answered HTTP {response.status_code}")


def send_email(name: str, channel: EmailChannel, warning: Warning_) -> None:
    message = EmailMessage()
    message["Subject"] = render_subject(warning)
    message["From"] = channel.from_
    message["To"] = ", ".join(channel.to)
    message.set_content(render_text(warning))
    password = (_resolve(channel.password, f"NotificationChannel {name!r} spec.password")
                if channel.password else None)
    port = channel.port or _DEFAULT_PORTS[channel.security]
    try:
        with _connect(channel, port) as smtp:
            if channel.username and password is not None:
                smtp.login(channel.username, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {channel.host}:{port}: {_smtp_reason(exc)}") from None


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
