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
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
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
    code, waiting = _tick(stack, 70)  # the retry backs off: 15 min after the failure
    assert code == 0 and "skip vip-selligent: retry at 2026-11-30 09:16 UTC" in waiting
    code, still = _tick(stack, 76)  # retried at the next 15-min tick
    assert code == 1 and "sync vip-selligent" in still and "Warning sent" not in still
    monkeypatch.setenv("SELLIGENT_API_SECRET", "sandbox-secret")
    code, recovered = _tick(stack, 76 + 30)  # after two failures the wait is 30 min
    assert code == 0, recovered
    assert "::notice title=reconciler%3A vip-selligent::" in recovered
    assert [b["event"]["kind"] for b in webhook.bodies] == ["failing", "recovered"]
    assert [m["Subject"].rsplit(": ", 1)[1] for m in smtp.messages] == ["failing", "recovered"]
    assert {b["event"]["activation"] for b in webhook.bodies} == {"vip-selligent"}


def test_an_expiring_key_is_notified_once_even_when_nothing_is_due(
        stack: Stack, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario (acceptance): after a first sync the manifest says the Selligent key expires
    # in 9 days; the next tick (nothing due) sends one notice to vip-selligent's channel,
    # later ticks (one syncing) send none, while every tick keeps its stderr warning.
    monkeypatch.setenv("CRM_ALERTS_WEBHOOK", webhook.url)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    code, first = _tick(stack, 0)
    assert code == 0 and first.count("sync ") == 4, first
    replace_in(stack.manifests / "destinations.yaml",
               "    apiSecret: ${env:SELLIGENT_API_SECRET}\n",
               "    apiSecret: ${env:SELLIGENT_API_SECRET}\n    expiresOn: 2026-12-09\n")
    idle = runner.invoke(app, ["run", "--due", *stack.at(START + dt.timedelta(minutes=30))
                               .cli_args()])
    assert idle.exit_code == 0 and "Nothing is due." in idle.stdout, idle.output
    assert "Notice sent to crm-alerts: destination selligent-sandbox: its API key expires " \
           "on 2026-12-09." in idle.stdout
    assert "Warning: destination selligent-sandbox: the key expires on 2026-12-09, in 9 " \
           "day(s)" in idle.stderr
    code, later = _tick(stack, 61)
    assert code == 0 and "sync vip-selligent" in later and "Notice sent" not in later, later
    assert "Warning: destination selligent-sandbox" in later
    assert [b["event"]["kind"] for b in webhook.bodies] == ["api-key-expiry"]
    assert webhook.bodies[0]["event"]["activations"] == ["churn-selligent", "vip-selligent"]
    assert stack.state_sql("SELECT notice FROM notices") == [
        ("api-key-expiry:selligent-sandbox:2026-12-09:crm-alerts",)]
