"""When activations are due, with a frozen clock."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from reconciler.executing.due import due_status, failures_since_success
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.state import RunRecord, RunStatus

REPO = Path(__file__).resolve().parents[2]
UTC = dt.UTC


@pytest.fixture(scope="module")
def settings() -> dict[str, EffectiveActivation]:
    project, diagnostics = load_project(REPO / "manifests")
    assert diagnostics == []
    return effective_activations(project)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_never_ran_is_due_now(settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: a fresh state store: every scheduled activation is due.
    status = due_status(settings["vip-selligent"], None, at("2026-11-27T10:00"))
    assert status.due and status.reason == "no successful run yet"


@pytest.mark.parametrize(
    ("now", "due"),
    [("2026-11-27T10:59", False), ("2026-11-27T11:00", True), ("2026-11-27T13:00", True)],
)
def test_every_interval_from_the_last_success(
    settings: dict[str, EffectiveActivation], now: str, due: bool
) -> None:
    # Scenario: `every: 1h` (from destination defaults), last success at 10:00.
    status = due_status(settings["churn-selligent"], at("2026-11-27T10:00"), at(now))
    assert status.due is due
    assert status.next_at == at("2026-11-27T11:00")


def test_cron_in_its_time_zone(settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: "0 6 * * *" Europe/Brussels is 05:00 UTC in winter.
    last = at("2026-11-26T05:00")
    assert not due_status(settings["sms-actito"], last, at("2026-11-27T04:59")).due
    status = due_status(settings["sms-actito"], last, at("2026-11-27T05:00"))
    assert status.due and status.next_at == at("2026-11-27T05:00")


def test_actito_list_refreshed_before_its_validity_ends(
    settings: dict[str, EffectiveActivation],
) -> None:
    # Scenario: a 36h list on a weekly cron is refreshed 1h before its file expires.
    weekly = settings["sms-actito"]
    weekly = EffectiveActivation(**{**weekly.__dict__, "schedule": weekly.schedule.model_copy(
        update={"cron": "0 6 * * 1"})})
    last = at("2026-11-23T05:00")  # a Monday
    status = due_status(weekly, last, at("2026-11-24T15:59"))
    assert not status.due and "list validity ends" in status.reason
    assert status.next_at == at("2026-11-24T16:00")
    assert due_status(weekly, last, at("2026-11-24T16:00")).due


def test_manual_is_never_due(settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: a manual activation only runs through `reconciler apply`.
    manual = EffectiveActivation(**{**settings["vip-selligent"].__dict__, "schedule": "manual"})
    status = due_status(manual, None, at("2026-11-27T10:00"))
    assert not status.due and status.next_at is None


def test_deferred_updates_wake_an_activation_at_the_next_import_slot(
    settings: dict[str, EffectiveActivation],
) -> None:
    # Scenario: `every: 1d`, last success 10:00 deferred its attribute updates to midnight UTC.
    last, slot = at("2026-11-27T10:00"), at("2026-11-28T00:00")
    before = due_status(settings["churn-actito"], last, at("2026-11-27T23:59"), slot)
    assert not before.due and before.reason == ("next due 2026-11-28 00:00 UTC "
                                                "(deferred attribute updates)")
    assert due_status(settings["churn-actito"], last, at("2026-11-28T00:01"), slot).due
    manual = due_status(dataclasses.replace(settings["churn-actito"], schedule="manual"), last,
                        slot, slot)
    assert not manual.due  # manual activations wait for `reconciler apply`


def test_a_failed_run_is_retried_at_the_next_tick_then_with_doubling_waits(
    settings: dict[str, EffectiveActivation],
) -> None:
    # Scenario: `every: 1d` style daily cron (sms-actito, 05:00 UTC) fails at 05:00: retried
    # 15 min later; after three failures (05:00, 05:15, 05:45) the next try is an hour on.
    daily = settings["sms-actito"]
    last = at("2026-11-26T05:00")
    once = [at("2026-11-27T05:00")]
    assert not due_status(daily, last, at("2026-11-27T05:14"), failures=once).due
    retry = due_status(daily, last, at("2026-11-27T05:15"), failures=once)
    assert retry.due and "1 unsuccessful run(s)" in retry.reason
    thrice = [at("2026-11-27T05:45"), at("2026-11-27T05:15"), at("2026-11-27T05:00")]
    waiting = due_status(daily, last, at("2026-11-27T06:44"), failures=thrice)
    assert not waiting.due and waiting.next_at == at("2026-11-27T06:45")
    assert waiting.reason.startswith("retry at 2026-11-27 06:45 UTC (3 unsuccessful")


def test_the_retry_wait_never_passes_the_schedule_interval(
    settings: dict[str, EffectiveActivation],
) -> None:
    # Scenario: `every: 1h`, ten failures in a row: the next try is an hour after the last.
    hourly = settings["churn-selligent"]
    failures = [at("2026-11-27T20:00") - dt.timedelta(hours=n) for n in range(10)]
    status = due_status(hourly, at("2026-11-27T09:00"), at("2026-11-27T20:59"),
                        failures=failures)
    assert not status.due and status.next_at == at("2026-11-27T21:00")


def test_a_never_successful_activation_backs_off_too(
    settings: dict[str, EffectiveActivation],
) -> None:
    status = due_status(settings["vip-selligent"], None, at("2026-11-27T10:10"),
                        failures=[at("2026-11-27T10:00")])
    assert not status.due and status.next_at == at("2026-11-27T10:15")


def test_failures_are_counted_back_to_the_last_success() -> None:
    def run(status: RunStatus, hour: int) -> RunRecord:
        return RunRecord(run_id=str(hour), activation="a",
                         started_at=at(f"2026-11-27T{hour:02d}:00"), status=status)

    runs = [run(RunStatus.RUNNING, 9), run(RunStatus.FAILED, 8), run(RunStatus.STOPPED, 7),
            run(RunStatus.SUCCEEDED, 6), run(RunStatus.FAILED, 5)]
    assert failures_since_success(runs) == [at("2026-11-27T08:00"), at("2026-11-27T07:00")]
    assert failures_since_success([]) == []
