"""What an apply did with each activation, and the interruption that carries it when Ctrl-C
stops an apply midway (so the CLI can say what was done and how to resume)."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from reconciler.changes.guards import GuardStop
from reconciler.destinations.base import WriteResult


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    STOPPED = "stopped"  # a guard stopped it before any write
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # Ctrl-C stopped it midway; the next apply resumes it
    NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True)
class ActivationResult:
    activation: str
    outcome: Outcome
    members: WriteResult | None = None
    updates: WriteResult | None = None
    message: str = ""
    seconds: float = 0.0  # time spent writing to the destination
    stops: tuple[GuardStop, ...] = ()  # the guards that stopped it (STOPPED)
    run_id: str | None = None  # its run in the state store's history (None: none recorded)


class ApplyInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped an apply. `results` holds every activation of the plan in
    order: the finished ones as they ended, the one being written INTERRUPTED (its run
    recorded as interrupted, its batch in flight journaled, its lock given back), the others
    NOT_ATTEMPTED. A KeyboardInterrupt, so nothing that catches errors swallows it."""

    def __init__(self, results: list[ActivationResult]) -> None:
        super().__init__("apply interrupted")
        self.results = results
