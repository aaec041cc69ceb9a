"""Executing a Plan: per activation, in plan order, through the destinations' writers.

Per activation, under its lock (a lease kept alive while it runs): check the state has not
changed since the plan; create resources (segment/list, fields/attributes) → membership →
attribute updates, every batch journaled; then the snapshot of what is now applied and the
run's record. Guards (`ActivationPlan.stops`) stop an activation before any write unless
allowed. A failing activation stops only itself (others go on) unless `fail_fast`.

Resume: a run killed midway stays `running` in the store; the next apply marks it interrupted
and (see `cli/plan.py`) plans that activation against the destination's actual membership, so
re-sending what was already applied is harmless (every write is idempotent).
"""
from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.destinations.base import DestinationWriter, WriteResult
from reconciler.destinations.errors import DestinationError
from reconciler.executing.journal import BatchJournal
from reconciler.executing.progress import ProgressReporter, SilentProgress
from reconciler.executing.removal import apply_removal, record_applied
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.planning.plan import ActivationPlan, Plan, ResourceType
from reconciler.planning.planner import Workspace
from reconciler.state import RemoteKind, RunStatus, StateWriter
from reconciler.state.errors import LockError, LockLostError
from reconciler.state.keeper import LockKeeper
from reconciler.state.locks import default_owner


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    STOPPED = "stopped"  # a guard stopped it before any write
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True)
class ActivationResult:
    activation: str
    outcome: Outcome
    members: WriteResult | None = None
    updates: WriteResult | None = None
    message: str = ""
    seconds: float = 0.0  # time spent writing to the destination


_REMOTE_KINDS = {
    ResourceType.SELLIGENT_SEGMENT: RemoteKind.SEGMENT,
    ResourceType.ACTITO_TARGET_LIST: RemoteKind.TARGET_LIST,
    ResourceType.SELLIGENT_FIELD: RemoteKind.FIELD,
    ResourceType.ACTITO_ATTRIBUTE: RemoteKind.ATTRIBUTE,
}


LEASE_SECONDS = 30.0  # renewed every 10 s while the apply runs; a dead holder's lapses soon


def _row_changes(planned: ActivationPlan) -> int:
    members = planned.members.adds + planned.members.removes if planned.members else 0
    return members + (planned.attributes.updates if planned.attributes else 0)


class Executor:
    def __init__(self, project: Project, workspace: Workspace,
                 writers: Mapping[str, DestinationWriter], state: StateWriter,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 planned_serials: Mapping[str, int] | None = None,
                 progress: ProgressReporter | None = None) -> None:
        self.clock = clock  # run records' times (frozen in schedule tests)
        self.progress = progress or SilentProgress()
        self.planned_serials = planned_serials or {}  # state serials the plan was made at
        self.settings = effective_activations(project)
        self.workspace = workspace
        self.writers = writers
        self.state = state

    def apply_plan(self, plan: Plan, *, allow_mass_removal: bool = False,
                   fail_fast: bool = False) -> list[ActivationResult]:
        results: list[ActivationResult] = []
        for activation in plan.activations:
            if fail_fast and any(r.outcome is Outcome.FAILED for r in results):
                results.append(ActivationResult(activation.activation, Outcome.NOT_ATTEMPTED,
                                                message="an earlier activation failed"))
                continue
            results.append(self._apply_one(activation, allow_mass_removal))
        return results

    def _apply_one(self, planned: ActivationPlan, allow_mass_removal: bool) -> ActivationResult:
        name = planned.activation
        if planned.error:
            self._record_refusal(name, RunStatus.FAILED, planned.error)
            return ActivationResult(name, Outcome.FAILED, message=planned.error)
        if planned.stops and not allow_mass_removal:
            message = ("; ".join(planned.stops)
                       + " (nothing written; rerun with --allow-mass-removal)")
            self._record_refusal(name, RunStatus.STOPPED, message)
            return ActivationResult(name, Outcome.STOPPED, message=message)
        try:
            lock = self.state.acquire_lock(name, default_owner("apply"), LEASE_SECONDS,
                                           wait_seconds=LEASE_SECONDS)
        except LockError as exc:
            return ActivationResult(name, Outcome.FAILED, message=str(exc))
        try:
            with self.state.keep_lock(lock) as keeper:
                result = self._locked(planned, keeper)
            self.state.release_lock(keeper.lock)
        except LockLostError as exc:
            return ActivationResult(name, Outcome.FAILED, message=str(exc))
        return result

    def _locked(self, planned: ActivationPlan, keeper: LockKeeper) -> ActivationResult:
        name = planned.activation
        expected = self.planned_serials.get(name)
        if expected is not None and self.state.serial(name) != expected:
            message = ("the state changed since this plan was made (another apply ran); "
                       "plan again")
            return ActivationResult(name, Outcome.FAILED, message=message)
        for unfinished in self.state.unfinished_runs(name):
            self.state.finish_run(unfinished.run_id, RunStatus.INTERRUPTED,
                                  error="never finished (killed midway); resumed by a later run",
                                  finished_at=self.clock())
        if planned.removed:  # gone from the manifests: delete its list (or keep it)
            return self._remove(planned, keeper)
        run_id = self.state.start_run(name, started_at=self.clock())
        if not planned.has_changes and self.state.snapshot_info(name) is not None:
            # A sync that found nothing to do still counts as a successful run (schedules).
            self.state.finish_run(run_id, RunStatus.SUCCEEDED, counts={},
                                  finished_at=self.clock())
            record_applied(self.state, planned, self.settings[name].deletion_policy, self.clock())
            return ActivationResult(name, Outcome.UNCHANGED)
        started = time.perf_counter()
        journal = BatchJournal(self.state, run_id, name, keeper,
                               on_confirm=lambda step, rows: self.progress.advance(name, step,
                                                                                   rows))
        self.progress.start(name, _row_changes(planned))
        try:
            members, updates = self._write(self.settings[name], planned, journal)
        except (DestinationError, LockLostError) as exc:
            self.state.finish_run(run_id, RunStatus.FAILED, error=str(exc),
                                  finished_at=self.clock())
            self.progress.finish(name, "failed")
            return ActivationResult(name, Outcome.FAILED, message=str(exc))
        self.progress.finish(name, "applied")
        counts = {"members_sent": members.sent, "members_applied": members.applied,
                  "members_not_found": members.not_found, "updates_sent": updates.sent,
                  "updates_applied": updates.applied, "updates_rejected": updates.rejected}
        self.state.finish_run(run_id, RunStatus.SUCCEEDED, counts=counts,
                              finished_at=self.clock())
        record_applied(self.state, planned, self.settings[name].deletion_policy, self.clock())
        return ActivationResult(name, Outcome.APPLIED, members, updates,
                                seconds=time.perf_counter() - started)

    def _remove(self, planned: ActivationPlan, keeper: LockKeeper) -> ActivationResult:
        try:
            done = apply_removal(self.state, self.writers.get(planned.destination), planned,
                                 keeper, self.clock)
        except (DestinationError, LockLostError) as exc:
            return ActivationResult(planned.activation, Outcome.FAILED, message=str(exc))
        outcome = Outcome.APPLIED if done else Outcome.UNCHANGED
        return ActivationResult(planned.activation, outcome, message=done or "")

    def _record_refusal(self, name: str, status: RunStatus, message: str) -> None:
        """A run that wrote nothing (plan error, guard stop) still goes in the history:
        `status` shows it and warnings compare a run's health with the previous one."""
        run_id = self.state.start_run(name, started_at=self.clock())
        self.state.finish_run(run_id, status, error=message, finished_at=self.clock())

    def _write(self, settings: EffectiveActivation, planned: ActivationPlan,
               journal: BatchJournal) -> tuple[WriteResult, WriteResult]:
        writer = self.writers[settings.destination]
        conn, tables = self.workspace.conn, self.workspace.tables_of(settings.name)
        if planned.resources:
            writer.create_resources(settings, planned.resources, journal)
        for resource in planned.resources:
            self.state.set_remote_id(settings.name, _REMOTE_KINDS[resource.type],
                                     resource.name,
                                     name="" if resource.type in (
                                         ResourceType.SELLIGENT_SEGMENT,
                                         ResourceType.ACTITO_TARGET_LIST) else resource.name)
        members = writer.apply_members(settings, conn, tables, journal)
        updates = writer.apply_updates(settings, conn, tables, journal)
        self.state.write_snapshot_from_duckdb(settings.name, conn, tables.members)
        return members, updates
