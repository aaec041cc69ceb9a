"""Value types: durations, environment references, cron intervals."""
from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.manifests.values import (
    MissingEnvironmentVariable,
    cron_max_interval,
    parse_duration,
    resolve_env_ref,
    resolve_maybe_env,
)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("2d", 172800), ("1w", 604800)]
)
def test_durations(text: str, seconds: int) -> None:
    # Scenario: each unit of the duration syntax.
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["0m", "1.5h", "15 m", "m", "3y", ""])
def test_bad_durations(text: str) -> None:
    # Scenario: malformed durations are refused with the expected syntax in the message.
    with pytest.raises(ValueError, match="s, m, h, d, w"):
        parse_duration(text)


def test_env_reference_resolved_only_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a set variable resolves; a missing one names itself and the field needing it.
    monkeypatch.setenv("RECONCILER_TEST_SECRET", "v")
    assert resolve_env_ref("${env:RECONCILER_TEST_SECRET}", "x") == "v"
    monkeypatch.delenv("RECONCILER_TEST_SECRET")
    with pytest.raises(MissingEnvironmentVariable) as caught:
        resolve_env_ref("${env:RECONCILER_TEST_SECRET}", "destination d spec.credentials.apiKey")
    assert "RECONCILER_TEST_SECRET is not set" in str(caught.value)
    assert "spec.credentials.apiKey" in str(caught.value)
    assert resolve_maybe_env("http://literal", "x") == "http://literal"


@pytest.mark.parametrize("blank", ["", "  "])
def test_an_empty_variable_is_refused_never_sent(monkeypatch: pytest.MonkeyPatch,
                                                 blank: str) -> None:
    # Scenario: a GitHub secret that was never defined reaches the job as an empty variable:
    # it is an error saying so, not an empty API key sent to a destination.
    monkeypatch.setenv("RECONCILER_TEST_SECRET", blank)
    with pytest.raises(MissingEnvironmentVariable, match="RECONCILER_TEST_SECRET is empty"):
        resolve_env_ref("${env:RECONCILER_TEST_SECRET}", "destination d spec.credentials.apiKey")


def test_cron_max_interval() -> None:
    # Scenario: daily, weekdays-only (the weekend gap) and every 30 minutes.
    assert cron_max_interval("0 6 * * *") == timedelta(days=1)
    assert cron_max_interval("0 6 * * 1-5") == timedelta(days=3)
    assert cron_max_interval("*/30 * * * *", "Europe/Brussels") == timedelta(minutes=30)
