"""Key-expiry notices delivered to a real local webhook and SMTP server: once per destination,
expiry date and channel, as the state store remembers; a failed delivery tried again."""
from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest

from reconciler.manifests.loading import load_project
from reconciler.manifests.project import Project
from reconciler.notifying import NoticeDelivery, expiring_keys, send_key_expiry_notices
from reconciler.operations.notices import notify_expiring_keys
from reconciler.state import StateWriter, open_state_store
from tests.manifests.conftest import REPO, replace_in
from tests.notifying.receivers import SMTP_PASSWORD, SmtpReceiver, WebhookReceiver, mail_channel

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
EXPIRES = dt.date(2026, 12, 6)  # 9 days after NOW
API_KEY, API_SECRET = "sk-live-4242-do-not-print", "shh-the-secret-9931"
PREFIX = "api-key-expiry:selligent-sandbox:"


def _project(tmp_path: Path, smtp_port: int, expires_on: dt.date | None = EXPIRES) -> Project:
    """The example project: both Selligent activations name both channels (in other orders),
    the Selligent key expires on `expires_on`."""
    root = tmp_path / "manifests"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "manifests", root)
    (root / "mail.yaml").write_text(mail_channel(smtp_port), "utf-8")
    replace_in(root / "activations/vip-selligent.yaml", "notify: [crm-alerts]",
               "notify: [crm-alerts, crm-mail]")
    with (root / "activations/churn-selligent.yaml").open("a", encoding="utf-8") as file:
        file.write("  warnings: {notify: [crm-mail, crm-alerts]}\n")
    if expires_on is not None:
        replace_in(root / "destinations.yaml", "    apiSecret: ${env:SELLIGENT_API_SECRET}\n",
                   "    apiSecret: ${env:SELLIGENT_API_SECRET}\n"
                   f"    expiresOn: {expires_on.isoformat()}\n")
    project, diagnostics = load_project(root)
    assert diagnostics == []
    return project


@pytest.fixture(autouse=True)
def env(webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_ALERTS_WEBHOOK", webhook.url)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("SELLIGENT_API_KEY", API_KEY)
    monkeypatch.setenv("SELLIGENT_API_SECRET", API_SECRET)


def _run(project: Project, store: StateWriter,
         now: dt.datetime = NOW) -> tuple[list[NoticeDelivery], str, str]:
    """What `run --due` does about expiring keys: the deliveries tried, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    deliveries = send_key_expiry_notices(project, expiring_keys(project, now), store, out=out,
                                         err=err)
    return deliveries, out.getvalue(), err.getvalue()


def test_a_notice_goes_once_to_each_channel_of_the_destinations_activations(
        tmp_path: Path, webhook: WebhookReceiver, smtp: SmtpReceiver) -> None:
    # Scenario (acceptance): two activations use the expiring destination and both name both
    # channels: one message per channel; the next runs (same or later day) send nothing.
    project = _project(tmp_path, smtp.port)
    with open_state_store(tmp_path / "state.duckdb") as store:
        first, out, err = _run(project, store)
        again, again_out, _ = _run(project, store, NOW + dt.timedelta(hours=1))
        tomorrow, _, _ = _run(project, store, NOW + dt.timedelta(days=1))
        assert set(store.notices(PREFIX)) == {f"{PREFIX}2026-12-06:crm-alerts",
                                               f"{PREFIX}2026-12-06:crm-mail"}
    assert [(d.channel, d.delivered) for d in first] == [("crm-mail", True), ("crm-alerts", True)]
    assert again == [] and tomorrow == [] and again_out == "" and err == ""
    assert "Notice sent to crm-alerts: destination selligent-sandbox: its API key expires on " \
           "2026-12-06." in out
    assert len(webhook.bodies) == 1 and len(smtp.messages) == 1
    event = webhook.bodies[0]["event"]
    assert event == {"kind": "api-key-expiry", "destination": "selligent-sandbox",
                     "destination_type": "selligent", "expires_on": "2026-12-06",
                     "days_left": 9, "expired": False,
                     "activations": ["churn-selligent", "vip-selligent"],
                     "at": NOW.isoformat()}
    text = webhook.bodies[0]["text"]
    assert text.startswith(":key: Audience Reconciler: destination selligent-sandbox: the "
                           "Selligent API key expires on 2026-12-06, in 9 day(s)")
    assert "renew the service account key in Selligent" in text
    assert "`credentials.expiresOn`" in text
    assert smtp.messages[0]["Subject"] == \
        "[reconciler] selligent-sandbox: API key expires 2026-12-06"


def test_no_secret_in_any_message(tmp_path: Path, webhook: WebhookReceiver,
                                  smtp: SmtpReceiver) -> None:
    # Scenario: the key, the secret, the webhook URL and the SMTP password are set where the
    # run happens; none of them is in what the channels get or in the run's output.
    project = _project(tmp_path, smtp.port)
    with open_state_store(tmp_path / "state.duckdb") as store:
        _, out, err = _run(project, store)
        ids = " ".join(store.notices())
    everything = (json.dumps(webhook.bodies) + "".join(m.as_string() for m in smtp.messages)
                  + out + err + ids)
    assert webhook.bodies and smtp.messages
    for secret in (API_KEY, API_SECRET, webhook.url, "127.0.0.1:", SMTP_PASSWORD):
        assert secret not in everything


def test_a_failed_delivery_is_tried_again_on_the_next_run(
        tmp_path: Path, webhook: WebhookReceiver, smtp: SmtpReceiver) -> None:
    # Scenario: the webhook answers 500 on the first run: stderr names the channel, the email
    # goes; the next run sends the webhook its notice and the email nothing more.
    project = _project(tmp_path, smtp.port)
    webhook.status = 500
    with open_state_store(tmp_path / "state.duckdb") as store:
        first, _, err = _run(project, store)
        assert set(store.notices(PREFIX)) == {f"{PREFIX}2026-12-06:crm-mail"}
        webhook.status = 200
        second, out, second_err = _run(project, store, NOW + dt.timedelta(minutes=15))
        third, _, _ = _run(project, store, NOW + dt.timedelta(minutes=30))
    assert [(d.channel, d.delivered) for d in first] == [("crm-mail", True),
                                                         ("crm-alerts", False)]
    assert "channel 'crm-alerts' did not get the key expiry notice for destination " \
           "selligent-sandbox: the webhook answered HTTP 500" in err
    assert [(d.channel, d.delivered) for d in second] == [("crm-alerts", True)]
    assert second_err == "" and "Notice sent to crm-alerts" in out and third == []
    assert len(webhook.bodies) == 2 and len(smtp.messages) == 1  # the 500 one, then the one


def test_a_new_expiry_date_is_a_new_notice(tmp_path: Path, webhook: WebhookReceiver,
                                           smtp: SmtpReceiver) -> None:
    # Scenario: the key is renewed with a short-lived one, `expiresOn` moves to a date that is
    # soon again: the new date is told once more (and not again once that date has passed).
    with open_state_store(tmp_path / "state.duckdb") as store:
        _run(_project(tmp_path, smtp.port), store)
        later = dt.date(2026, 12, 20)
        renewed = _project(tmp_path, smtp.port, later)
        sent, _, _ = _run(renewed, store, NOW + dt.timedelta(days=10))
        again, _, _ = _run(renewed, store, NOW + dt.timedelta(days=11))
        expired, _, _ = _run(renewed, store, NOW + dt.timedelta(days=30))
    assert [d.notice for d in sent] == [f"{PREFIX}2026-12-20:crm-mail",
                                        f"{PREFIX}2026-12-20:crm-alerts"]
    assert again == [] and expired == []  # told once per date, expired or not
    assert [b["event"]["expires_on"] for b in webhook.bodies] == ["2026-12-06", "2026-12-20"]
    assert webhook.bodies[1]["event"]["days_left"] == 13


def test_an_expired_key_is_told_as_expired(tmp_path: Path, webhook: WebhookReceiver,
                                           smtp: SmtpReceiver) -> None:
    # Scenario: the first run to see the expiry date is after it (the job was off).
    project = _project(tmp_path, smtp.port)
    with open_state_store(tmp_path / "state.duckdb") as store:
        _run(project, store, dt.datetime(2026, 12, 9, 6, 0, tzinfo=dt.UTC))
    event = webhook.bodies[0]["event"]
    assert (event["days_left"], event["expired"]) == (-3, True)
    assert "the Selligent API key expired on 2026-12-06, 3 day(s) ago" in \
        webhook.bodies[0]["text"]
    assert smtp.messages[0]["Subject"] == \
        "[reconciler] selligent-sandbox: API key expired 2026-12-06"


def test_nothing_pending_outside_two_weeks_or_without_channels(
        tmp_path: Path, smtp: SmtpReceiver) -> None:
    # Scenario: 15 days before the date nothing is pending (nor without an expiry date);
    # 14 days before it is; a destination whose activations name no channel has none.
    project = _project(tmp_path, smtp.port)
    assert expiring_keys(project, NOW - dt.timedelta(days=6)) == []
    assert [p.channels for p in expiring_keys(project, NOW - dt.timedelta(days=5))] == [
        ("crm-mail", "crm-alerts")]  # churn-selligent's order first, each once
    assert expiring_keys(_project(tmp_path, smtp.port, None), NOW) == []
    root = tmp_path / "manifests"
    replace_in(root / "activations/vip-selligent.yaml", "notify: [crm-alerts, crm-mail]",
               "notify: []")
    replace_in(root / "activations/churn-selligent.yaml", "notify: [crm-mail, crm-alerts]",
               "notify: []")
    assert expiring_keys(load_project(root)[0], NOW) == []


def test_the_store_is_not_opened_when_no_key_expires_soon(tmp_path: Path,
                                                          smtp: SmtpReceiver) -> None:
    # Scenario: `run --due`'s step on an ordinary day creates no state file; on a day a key
    # expires soon it writes the notices to the store given.
    state = tmp_path / "state.duckdb"
    project = _project(tmp_path, smtp.port)
    assert notify_expiring_keys(project, str(state), NOW - dt.timedelta(days=30)) == []
    assert not state.exists()
    assert len(notify_expiring_keys(project, str(state), NOW)) == 2
    with open_state_store(state) as store:
        assert len(store.notices(PREFIX)) == 2
