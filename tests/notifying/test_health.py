"""Health rules and health changes, table-driven over results and run records (no I/O)."""
from __future__ import annotations

import datetime as dt

import pytest

from reconciler.destinations.base import WriteResult
from reconciler.executing.executor import ActivationResult, Outcome
from reconciler.manifests.models import Warnings
from reconciler.notifying.health import (
    Change,
    Health,
    health_changes,
    health_of_result,
    health_of_run,
)
from reconciler.state import RunRecord, RunStatus

ON = Warnings(on_failure=True, max_rejected_ratio=0.05)
QUIET = Warnings(on_failure=False, max_rejected_ratio=None)
T0 = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def _result(outcome: Outcome, rejected: int = 0) -> ActivationResult:
    updates = WriteResult(sent=100, applied=100 - rejected, rejected=rejected)
    return ActivationResult("a", outcome, WriteResult(10, 10), updates)


@pytest.mark.parametrize(("outcome", "rejected", "warnings", "health"), [
    (Outcome.APPLIED, 0, ON, Health.HEALTHY),
    (Outcome.APPLIED, 5, ON, Health.HEALTHY),  # 5% is not over 5%
    (Outcome.APPLIED, 6, ON, Health.REJECTING),
    (Outcome.APPLIED, 60, QUIET, Health.HEALTHY),  # no maxRejectedRatio
    (Outcome.UNCHANGED, 0, ON, Health.HEALTHY),
    (Outcome.FAILED, 0, ON, Health.FAILING),
    (Outcome.FAILED, 0, QUIET, Health.HEALTHY),  # onFailure: false keeps failures silent
    (Outcome.STOPPED, 0, QUIET, Health.STOPPED),
    (Outcome.NOT_ATTEMPTED, 0, ON, None),
])
def test_health_of_a_result(outcome: Outcome, rejected: int, warnings: Warnings,
                            health: Health | None) -> None:
    # Scenario: each outcome of a sync, under warnings on and off, has one health.
    assert health_of_result(_result(outcome, rejected), warnings) == health


@pytest.mark.parametrize(("status", "counts", "health"), [
    (RunStatus.SUCCEEDED, {}, Health.HEALTHY),
    (RunStatus.SUCCEEDED, {"updates_sent": 10, "updates_rejected": 1}, Health.REJECTING),
    (RunStatus.FAILED, {}, Health.FAILING),
    (RunStatus.STOPPED, {}, Health.STOPPED),
])
def test_health_of_a_recorded_run(status: RunStatus, counts: dict[str, int],
                                  health: Health) -> None:
    # Scenario: the run history gives back the health the result had when it was recorded.
    run = RunRecord("r", "a", T0, status, T0, counts)
    assert health_of_run(run, ON) is health


@pytest.mark.parametrize(("previous", "outcome", "change"), [
    (Health.HEALTHY, Outcome.APPLIED, None),
    (Health.HEALTHY, Outcome.FAILED, (Health.HEALTHY, Health.FAILING)),
    (Health.FAILING, Outcome.FAILED, None),  # still failing: said once already
    (Health.FAILING, Outcome.UNCHANGED, (Health.FAILING, Health.HEALTHY)),
    (Health.FAILING, Outcome.STOPPED, (Health.FAILING, Health.STOPPED)),
    (Health.STOPPED, Outcome.STOPPED, None),
    (Health.FAILING, Outcome.NOT_ATTEMPTED, None),
])
def test_only_changes_of_health_are_warned(previous: Health, outcome: Outcome,
                                           change: tuple[Health, Health] | None) -> None:
    # Scenario: a warning goes out when health changes, never twice for the same state.
    changes = health_changes([_result(outcome)], {"a": previous}, {"a": ON})
    assert changes == ([Change("a", *change)] if change else [])
