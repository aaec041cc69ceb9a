"""An activation's health as its warnings see it, and the changes of health worth a warning.

Owns the rules: a failed sync is FAILING when `onFailure` is on (silent otherwise), a guard
stop is STOPPED, a sync whose destination rejected more than `maxRejectedRatio` of the rows
sent is REJECTING, anything else HEALTHY. The previous health comes from the last finished run
in the state store (read before the new runs are recorded); the current one from the
executor's results. Pure apart from `read_health`, which only reads the store.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.executing.executor import ActivationResult, Outcome
from reconciler.manifests.models import Warnings
from reconciler.state import RunRecord, RunStatus, StateReader

_FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED)
_HISTORY = 20  # runs looked at to find the last finished one


class Health(enum.StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"  # the sync failed (onFailure)
    STOPPED = "stopped"  # a guard stopped it before any write
    REJECTING = "rejecting"  # the destination rejected more rows than maxRejectedRatio


@dataclass(frozen=True)
class Change:
    """A change of an activation's health: what a warning is sent for."""

    activation: str
    previous: Health
    current: Health

    @property
    def recovered(self) -> bool:
        return self.current is Health.HEALTHY


def counts_of(result: ActivationResult) -> dict[str, int]:
    """The result's counts, named as the executor records them in the run history."""
    counts: dict[str, int] = {}
    if result.members is not None:
        counts.update(members_sent=result.members.sent, members_applied=result.members.applied,
                      members_not_found=result.members.not_found)
    if result.updates is not None:
        counts.update(updates_sent=result.updates.sent, updates_applied=result.updates.applied,
                      updates_rejected=result.updates.rejected)
    return counts


def rejected_ratio(counts: Mapping[str, int]) -> float:
    sent = counts.get("updates_sent", 0)
    return counts.get("updates_rejected", 0) / sent if sent else 0.0


def _succeeded_health(counts: Mapping[str, int], warnings: Warnings) -> Health:
    limit = warnings.max_rejected_ratio
    if limit is not None and rejected_ratio(counts) > limit:
        return Health.REJECTING
    return Health.HEALTHY


def _failed_health(warnings: Warnings) -> Health:
    return Health.FAILING if warnings.on_failure else Health.HEALTHY


def health_of_run(run: RunRecord, warnings: Warnings) -> Health:
    if run.status is RunStatus.FAILED:
        return _failed_health(warnings)
    if run.status is RunStatus.STOPPED:
        return Health.STOPPED
    return _succeeded_health(run.counts, warnings)


def health_of_result(result: ActivationResult, warnings: Warnings) -> Health | None:
    """None when the activation was not attempted (its health is unknown, not changed)."""
    if result.outcome is Outcome.NOT_ATTEMPTED:
        return None
    if result.outcome is Outcome.FAILED:
        return _failed_health(warnings)
    if result.outcome is Outcome.STOPPED:
        return Health.STOPPED
    return _succeeded_health(counts_of(result), warnings)


def read_health(reader: StateReader, warnings: Mapping[str, Warnings],
                activations: Iterable[str]) -> dict[str, Health]:
    """Each activation's health after its last finished run (HEALTHY when it never ran)."""
    health = {}
    for name in activations:
        last = next((r for r in reader.runs(name, limit=_HISTORY) if r.status in _FINISHED),
                    None)
        health[name] = health_of_run(last, warnings[name]) if last else Health.HEALTHY
    return health


def health_changes(results: Iterable[ActivationResult], previous: Mapping[str, Health],
                   warnings: Mapping[str, Warnings]) -> list[Change]:
    """The activations whose health this run changed, in the results' order."""
    changes = []
    for result in results:
        current = health_of_result(result, warnings[result.activation])
        before = previous.get(result.activation, Health.HEALTHY)
        if current is not None and current is not before:
            changes.append(Change(result.activation, before, current))
    return changes
