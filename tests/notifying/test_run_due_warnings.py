"""Warnings end to end: `run --due` with a frozen clock over both sandboxes, a destination
that fails then recovers, a real local webhook and SMTP server receiving the warnings."""
from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import Stack
from tests.manifests.conftest import replace_in
from tests.notifying.receivers import SMTP_PASSWORD, SmtpReceiver, WebhookReceiver, mail_channel

runner = CliRunner()
START = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def _tick(stack: Stack, minutes: int) -> tuple[int, str]:
    now = START + dt.timedelta(minutes=minutes)
    result = runner.invoke(app, ["run", "--due", *stack.at(now).cli_args()])
    return result.exit_code, result.output


def test_failing_destination_warns_once_and_on_recovery(
        stack: Stack, webhook: WebhookReceiver, smtp: SmtpReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario (acceptance): all sync; Selligent then refuses the API secret for two ticks
    # (one warning), then accepts it again (one recovery); annotations under Actions.
    (stack.manifests / "mail.yaml").write_text(mail_channel(smtp.port), "utf-8")
    replace_in(stack.manifests / "activations/vip-selligent.yaml", "notify: [crm-alerts]",
               "notify: [crm-alerts, crm-mail]")
    monkeypatch.setenv("CRM_ALERTS_WEBHOOK", webhook.url)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, first = _tick(stack, 0)
    assert code == 0 and first.count("sync ") == 4, first
    assert webhook.bodies == [] and "::" not in first
    monkeypatch.setenv("SELLIGENT_API_SECRET", "revoked")
    code, failing = _tick(stack, 61)
    assert code == 1 and "vip-selligent: failed" in failing, failing
    assert "::error title=reconciler%3A vip-selligent::" in failing
    assert "::error title=reconciler%3A churn-selligent::" in failing
    assert "Warning sent to crm-alerts: vip-selligent: the sync failed." in failing
    code, still = _tick(stack, 62)  # a failed run is retried on the next tick
    assert code == 1 and "sync vip-selligent" in still and "Warning sent" not in still
    monkeypatch.setenv("SELLIGENT_API_SECRET", "sandbox-secret")
    code, recovered = _tick(stack, 63)
    assert code == 0, recovered
    assert "::notice title=reconciler%3A vip-selligent::" in recovered
    assert [b["event"]["kind"] for b in webhook.bodies] == ["failing", "recovered"]
    assert [m["Subject"].rsplit(": ", 1)[1] for m in smtp.messages] == ["failing", "recovered"]
    assert {b["event"]["activation"] for b in webhook.bodies} == {"vip-selligent"}
