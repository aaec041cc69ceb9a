"""Warnings delivered by `notify_results` to a real local webhook and SMTP server, once per
change of health as the state store's run history tells it, and as GitHub annotations."""
from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.destinations.base import WriteResult
from reconciler.executing.executor import ActivationResult, Outcome
from reconciler.manifests.loading import load_project
from reconciler.manifests.project import Project
from reconciler.notifying import Health, notify_results, previous_health
from reconciler.state import RunStatus, StateWriter, open_state_store
from tests.manifests.conftest import REPO, replace_in
from tests.notifying.receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpReceiver,
    WebhookReceiver,
    free_port,
    mail_channel,
)

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
SECRET_ERROR = "HTTP 400 from Selligent: invalid value 'jane.doe@example.com' in MAIL"
STATUS = {Outcome.APPLIED: RunStatus.SUCCEEDED, Outcome.UNCHANGED: RunStatus.SUCCEEDED,
          Outcome.FAILED: RunStatus.FAILED, Outcome.STOPPED: RunStatus.STOPPED}


def _project(tmp_path: Path, smtp_port: int) -> Project:
    """The example project, vip-selligent notifying its webhook and an email channel."""
    root = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", root)
    (root / "mail.yaml").write_text(mail_channel(smtp_port), "utf-8")
    replace_in(root / "activations/vip-selligent.yaml", "notify: [crm-alerts]",
               "notify: [crm-alerts, crm-mail]")
    project, diagnostics = load_project(root)
    assert diagnostics == []
    return project


@pytest.fixture
def env(webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_ALERTS_WEBHOOK", webhook.url)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def _sync(project: Project, store: StateWriter, result: ActivationResult,
          environ: dict[str, str] | None = None) -> tuple[str, str]:
    """What the CLI does around one apply: read health, record the run, notify."""
    previous = previous_health(project, store, [result.activation])
    started = NOW + dt.timedelta(minutes=len(store.runs(result.activation, limit=100)))
    run = store.start_run(result.activation, started_at=started)
    store.finish_run(run, STATUS[result.outcome], counts={"updates_sent": 100,
                     "updates_rejected": result.updates.rejected if result.updates else 0})
    out, err = io.StringIO(), io.StringIO()
    notify_results(project, [result], previous, now=NOW, environ=environ or {}, out=out,
                   err=err)
    return out.getvalue(), err.getvalue()


def _failed() -> ActivationResult:
    return ActivationResult("vip-selligent", Outcome.FAILED, message=SECRET_ERROR)


def _applied(rejected: int = 0) -> ActivationResult:
    return ActivationResult("vip-selligent", Outcome.APPLIED, WriteResult(120, 118, 2),
                            WriteResult(100, 100 - rejected, rejected=rejected))


@pytest.mark.usefixtures("env")
def test_fail_fail_ok_warns_once_then_recovers(tmp_path: Path, webhook: WebhookReceiver,
                                               smtp: SmtpReceiver) -> None:
    # Scenario (acceptance): ok → fail → fail → ok sends one failure and one recovery, to the
    # webhook and by email, without the destination's error text (it may hold personal data).
    project = _project(tmp_path, smtp.port)
    with open_state_store(tmp_path / "state.duckdb") as store:
        for result in (_applied(), _failed(), _failed(), _applied()):
            _sync(project, store, result)
    assert [b["event"]["kind"] for b in webhook.bodies] == ["failing", "recovered"]
    failing = webhook.bodies[0]
    assert failing["event"]["activation"] == "vip-selligent"
    assert failing["event"]["destination"] == "selligent-sandbox"
    assert failing["event"]["previous"] == "healthy" and failing["event"]["at"] == NOW.isoformat()
    assert failing["text"].startswith(":rotating_light: Audience Reconciler: vip-selligent")
    assert [m["Subject"] for m in smtp.messages] == [
        "[reconciler] vip-selligent → selligent-sandbox: failing",
        "[reconciler] vip-selligent → selligent-sandbox: recovered"]
    assert smtp.messages[0]["To"] == "crm@example.com, ops@example.com"
    assert smtp.logins == [SMTP_USER, SMTP_USER]
    everything = str(webhook.bodies) + "".join(m.as_string() for m in smtp.messages)
    assert "jane" not in everything and "example.com' in MAIL" not in everything


@pytest.mark.usefixtures("env")
def test_guard_stop_and_rejected_rows(tmp_path: Path, webhook: WebhookReceiver,
                                      smtp: SmtpReceiver) -> None:
    # Scenario: a guard stop names its guard; then rows rejected over maxRejectedRatio (5%).
    project = _project(tmp_path, smtp.port)
    stop = ActivationResult("vip-selligent", Outcome.STOPPED, message="stopped", stops=(
        GuardStop(kind=GuardKind.MAX_REMOVAL_RATIO, activation="vip-selligent", measured=0.45,
                  limit=0.1),))
    with open_state_store(tmp_path / "state.duckdb") as store:
        for result in (stop, stop, _applied(rejected=9), _applied(rejected=9)):
            _sync(project, store, result)
    assert [b["event"]["kind"] for b in webhook.bodies] == ["stopped", "rejecting"]
    assert webhook.bodies[0]["event"]["guards"] == ["maxRemovalRatio"]
    assert webhook.bodies[1]["event"]["counts"]["updates_rejected"] == 9
    assert len(smtp.messages) == 2


@pytest.mark.usefixtures("env")
def test_failed_deliveries_are_reported_and_never_raise(
        tmp_path: Path, webhook: WebhookReceiver) -> None:
    # Scenario: the webhook answers 500 and no SMTP server listens: one stderr line per
    # channel, naming it, without the webhook URL; nothing raises.
    webhook.status = 500
    project = _project(tmp_path, free_port())
    with open_state_store(tmp_path / "state.duckdb") as store:
        out, err = _sync(project, store, _failed())
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert "channel 'crm-alerts'" in lines[0] and "HTTP 500" in lines[0]
    assert "channel 'crm-mail'" in lines[1] and "ConnectionRefusedError" in lines[1]
    assert webhook.url not in err and "Warning sent" not in out


@pytest.mark.usefixtures("env")
def test_unset_webhook_variable(tmp_path: Path, smtp: SmtpReceiver,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: CRM_ALERTS_WEBHOOK is not set where the sync runs: said on stderr, email sent.
    monkeypatch.delenv("CRM_ALERTS_WEBHOOK")
    project = _project(tmp_path, smtp.port)
    with open_state_store(tmp_path / "state.duckdb") as store:
        out, err = _sync(project, store, _failed())
    assert "'crm-alerts'" in err and "CRM_ALERTS_WEBHOOK is not set" in err
    assert "Warning sent to crm-mail: vip-selligent: the sync failed." in out
    assert len(smtp.messages) == 1


@pytest.mark.usefixtures("env")
def test_annotations_under_github_actions(tmp_path: Path, webhook: WebhookReceiver,
                                          smtp: SmtpReceiver) -> None:
    # Scenario: in Actions every unhealthy activation of the run is annotated, every run
    # (channels still hear of the change once); a recovery is a notice.
    project = _project(tmp_path, smtp.port)
    actions = {"GITHUB_ACTIONS": "true"}
    with open_state_store(tmp_path / "state.duckdb") as store:
        first, _ = _sync(project, store, _failed(), actions)
        second, _ = _sync(project, store, _failed(), actions)
        recovered, _ = _sync(project, store, _applied(), actions)
        quiet, _ = _sync(project, store, _applied(), actions)
        outside, _ = _sync(project, store, _failed(), {})
    error = ("::error title=reconciler%3A vip-selligent::Audience Reconciler: vip-selligent → "
             "selligent-sandbox: the sync failed%0A")
    assert first.count("::error ") == 1 and error in first
    assert second.count("::error ") == 1 and "Warning sent" not in second
    assert "::notice title=reconciler%3A vip-selligent::" in recovered
    assert "::" not in quiet and "::" not in outside
    assert len(webhook.bodies) == 3
    assert Health.FAILING.value in str(webhook.bodies[-1])
