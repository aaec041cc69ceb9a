"""Executing a Plan: per activation, in plan order, through the destinations' writers.

Per activation, under its lock (a lease kept alive while it runs; taken only if the state has
not changed since the plan, checked in the same transaction, before any write); create
resources (segment/list, fields/attributes) → membership →
attribute updates, every batch journaled; then the snapshot of what is now applied and the
run's record. Guards (`ActivationPlan.stops`) stop an activation before any write unless
allowed. A failing activation stops only itself (others go on) unless `fail_fast`.

Actito activations of one run on one table share one import for their attribute updates, and
the table's daily import budget may defer them to the next slot (see `importbudget.py`): such a
group is written together, each under its own lock (taken in plan order), at its first
activation's turn — members first, then the shared import; a deferred activation's snapshot
keeps no hash for the rows not updated, so the next run sends them; so does one whose updates
came back unsettled (rows rejected, the destination not saying which).

Resume: a run killed midway stays `running` in the store; the next apply marks it interrupted
and (see `operations/plans.py`) plans that activation against the destination's actual
membership, so re-sending what was already applied is harmless (every write is idempotent).
Ctrl-C is not a kill: the batches in flight are answered and journaled, the run is recorded
as interrupted, its lock given back, and `ApplyInterrupted` says what each activation got to.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.changes.resources import ResourceType
from reconciler.changes.tables import count_rows
from reconciler.destinations.base import (
    BulkImportWriter,
    DestinationWriter,
    UpdateShare,
    WriteResult,
)
from reconciler.destinations.capabilities import capabilities_of
from reconciler.destinations.errors import DestinationError
from reconciler.executing.importbudget import (
    ImportGroup,
    import_groups,
    sends_updates,
)
from reconciler.executing.journal import BatchJournal
from reconciler.executing.outcomes import ActivationResult, ApplyInterrupted, Outcome
from reconciler.executing.progress import ProgressReporter, SilentProgress
from reconciler.executing.removal import apply_removal, record_applied
from reconciler.executing.sharedimport import (
    SharedImport,
    UpdateOutcome,
    UpdatesDeferred,
    without_hashes_of_updates,
)
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.plan import ActivationPlan, Plan
from reconciler.planning.planner import Workspace
from reconciler.planning.render import describe_stop
from reconciler.state import RemoteKind, RemoteList, RunStatus, StateWriter
from reconciler.state.errors import LockError, LockLostError, StaleStateError
from reconciler.state.keeper import LockKeeper
from reconciler.state.locks import default_owner

_REMOTE_KINDS = {
    ResourceType.SELLIGENT_SEGMENT: RemoteKind.SEGMENT,
    ResourceType.ACTITO_TARGET_LIST: RemoteKind.TARGET_LIST,
    ResourceType.SELLIGENT_FIELD: RemoteKind.FIELD,
    ResourceType.ACTITO_ATTRIBUTE: RemoteKind.ATTRIBUTE,
}


log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0  # renewed every 10 s while the apply runs; a dead holder's lapses soon


def _row_changes(planned: ActivationPlan) -> int:
    """The rows apply will confirm: the progress bar's total."""
    members = planned.members
    capabilities = capabilities_of(planned.destination_type)
    if members is None:
        count = 0
    elif capabilities is not None and capabilities.sends_whole_list:
        count = members.matched  # every member goes out in the list's file
    else:
        count = members.adds + members.removes
    return count + (planned.attributes.updates if planned.attributes else 0)


@dataclass
class _Open:
    """An activation being written: its lock held (kept alive by `stack`), its run started."""

    planned: ActivationPlan
    settings: EffectiveActivation
    stack: contextlib.ExitStack
    keeper: LockKeeper
    run_id: str
    journal: BatchJournal
    started: float
    members: WriteResult = WriteResult(0, 0)


class Executor:
    def __init__(self, workspace: Workspace,
                 writers: Mapping[str, DestinationWriter], state: StateWriter,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 planned_serials: Mapping[str, int] | None = None,
                 progress: ProgressReporter | None = None,
                 lock_wait_seconds: float = LEASE_SECONDS) -> None:
        self.clock = clock  # run records' times (frozen in schedule tests)
        self.progress = progress or SilentProgress()
        self.planned_serials = planned_serials or {}  # state serials the plan was made at
        self.workspace = workspace
        self.writers = writers
        self.state = state
        self.imports = SharedImport(state, clock)
        self.lock_wait_seconds = lock_wait_seconds  # for a lock another apply holds

    def apply_plan(self, plan: Plan, *, allow_mass_removal: bool = False,
                   fail_fast: bool = False) -> list[ActivationResult]:
        """Each activation in plan order; those whose attribute updates share one import
        (importbudget.py) are written together, under all their locks, at the first's turn.
        Names, keys, fields and policies are the plan's (`ActivationPlan.settings`)."""
        settings = {p.activation: p.settings for p in plan.activations if p.settings}
        targets = {p.activation: p.import_target for p in plan.activations if p.import_target}
        groups = {name: group for group in import_groups(
            plan.activations, targets, settings,
            lambda p: sends_updates(p, allow_mass_removal=allow_mass_removal)
            and isinstance(self.writers.get(p.destination), BulkImportWriter))
            for name in group.activations}
        results: dict[str, ActivationResult] = {}
        unit: list[ActivationPlan] = []
        try:
            for activation in plan.activations:
                if activation.activation in results:
                    continue
                if fail_fast and any(r.outcome is Outcome.FAILED for r in results.values()):
                    results[activation.activation] = ActivationResult(
                        activation.activation, Outcome.NOT_ATTEMPTED,
                        message="an earlier activation failed")
                    continue
                group = groups.get(activation.activation)
                unit = [p for p in plan.activations if group is not None
                        and p.activation in group.activations] or [activation]
                results.update(self._apply_unit(unit, group, allow_mass_removal))
        except KeyboardInterrupt as stop:  # Ctrl-C: say what each activation got to
            if isinstance(stop, ApplyInterrupted):
                results.update({r.activation: r for r in stop.results})
            results.update({p.activation: ActivationResult(  # Ctrl-C twice: not recorded
                p.activation, Outcome.INTERRUPTED, message="Ctrl-C before its run was "
                "recorded (the next apply resumes it)") for p in unit
                if p.activation not in results})
            raise ApplyInterrupted([results.get(a.activation) or ActivationResult(
                a.activation, Outcome.NOT_ATTEMPTED) for a in plan.activations]) from None
        return [results[a.activation] for a in plan.activations]

    def _apply_unit(self, unit: list[ActivationPlan], group: ImportGroup | None,
                    allow_mass_removal: bool) -> dict[str, ActivationResult]:
        results: dict[str, ActivationResult] = {}
        opened: list[_Open] = []
        try:
            for planned in unit:
                begun = self._begin(planned, allow_mass_removal)
                if isinstance(begun, ActivationResult):
                    results[planned.activation] = begun
                    continue
                opened.append(begun)
                try:
                    begun.members = self._write_members(begun)
                    if group is None:
                        results[planned.activation] = self._finish(begun,
                                                                   self._write_updates(begun))
                except (DestinationError, LockLostError) as exc:
                    results[planned.activation] = self._fail(begun, exc)
            waiting = [o for o in opened if o.planned.activation not in results]
            if group is not None and waiting:
                results.update(self._shared_updates(group, waiting))
        except KeyboardInterrupt:
            results.update({o.planned.activation: self._interrupted(o) for o in opened
                            if o.planned.activation not in results})
            raise ApplyInterrupted(list(results.values())) from None
        finally:
            for begun in opened:  # stop renewing leases even when something unexpected broke
                begun.stack.close()
        return results

    def _begin(self, planned: ActivationPlan,
               allow_mass_removal: bool) -> ActivationResult | _Open:
        """Refusals, the lock, resuming, removal and unchanged activations end here; else the
        activation's run is started and it is ready to be written."""
        name = planned.activation
        if planned.error:
            run_id = self._record_refusal(name, RunStatus.FAILED, planned.error)
            return ActivationResult(name, Outcome.FAILED, message=planned.error, run_id=run_id)
        if planned.stops and not allow_mass_removal:
            message = ("; ".join(describe_stop(stop) for stop in planned.stops)
                       + " (nothing written; rerun with --allow-mass-removal)")
            run_id = self._record_refusal(name, RunStatus.STOPPED, message)
            return ActivationResult(name, Outcome.STOPPED, message=message,
                                    stops=planned.stops, run_id=run_id)
        try:
            # The lock and the plan's state serial in one transaction, before the first write.
            lock = self.state.acquire_lock(name, default_owner("apply"), LEASE_SECONDS,
                                           wait_seconds=self.lock_wait_seconds,
                                           expect_serial=self.planned_serials.get(name))
        except StaleStateError:
            return ActivationResult(name, Outcome.FAILED, message=(
                "the state changed since this plan was made (another apply ran); plan again"))
        except LockError as exc:
            return ActivationResult(name, Outcome.FAILED, message=str(exc))
        stack = contextlib.ExitStack()
        keeper = stack.enter_context(self.state.keep_lock(lock))
        try:
            begun = self._locked(planned, keeper, stack)
        except LockLostError as exc:
            begun = ActivationResult(name, Outcome.FAILED, message=str(exc))
        if isinstance(begun, ActivationResult):
            return self._release(stack, keeper, begun)
        return begun

    def _release(self, stack: contextlib.ExitStack, keeper: LockKeeper,
                 result: ActivationResult) -> ActivationResult:
        """Stop renewing the lease and give the lock back; losing it fails the activation."""
        try:
            stack.close()
            self.state.release_lock(keeper.lock)
        except LockLostError as exc:
            return ActivationResult(result.activation, Outcome.FAILED, message=str(exc))
        return result

    def _locked(self, planned: ActivationPlan, keeper: LockKeeper,
                stack: contextlib.ExitStack) -> ActivationResult | _Open:
        name = planned.activation
        for unfinished in self.state.unfinished_runs(name):
            self.state.finish_run(unfinished.run_id, RunStatus.INTERRUPTED,
                                  error="never finished (killed midway); resumed by a later run",
                                  finished_at=self.clock())
        if planned.removed:  # gone from the manifests: delete its list (or keep it)
            return self._remove(planned, keeper)
        settings = planned.settings
        if settings is None:
            raise ValueError(f"the plan of {name!r} carries no settings to apply")
        run_id = self.state.start_run(name, started_at=self.clock())
        if not planned.has_changes and self.state.snapshot_info(name) is not None:
            # A sync that found nothing to do still counts as a successful run (schedules).
            self.state.finish_run(run_id, RunStatus.SUCCEEDED, counts=_audience(planned),
                                  finished_at=self.clock())
            record_applied(self.state, planned, settings.deletion_policy, self.clock())
            return ActivationResult(name, Outcome.UNCHANGED, run_id=run_id)
        journal = BatchJournal(self.state, run_id, name, keeper,
                               on_confirm=lambda step, rows: self.progress.advance(name, step,
                                                                                   rows))
        self.progress.start(name, _row_changes(planned))
        return _Open(planned, settings, stack, keeper, run_id, journal,
                     time.perf_counter())

    def _write_members(self, begun: _Open) -> WriteResult:
        settings, planned = begun.settings, begun.planned
        writer = self.writers[settings.destination]
        conn, tables = self.workspace.conn, self.workspace.tables_of(settings.name)
        # Written ahead of the create calls: an apply killed while the destination creates a
        # list still leaves it this activation's (the crash campaign found the gap).
        for resource in planned.resources:
            self.state.set_remote_id(settings.name, _REMOTE_KINDS[resource.type],
                                     resource.name,
                                     name="" if resource.type in (
                                         ResourceType.SELLIGENT_SEGMENT,
                                         ResourceType.ACTITO_TARGET_LIST) else resource.name)
        if planned.resources:
            writer.create_resources(settings, planned.resources, begun.journal)
        written = writer.apply_members(settings, conn, tables, begun.journal)
        # A replaced list goes only once its successor holds every member (create before
        # destroy), when the plan says it goes.
        retired = tuple(r for r in (c.retired() for c in planned.resources) if r is not None)
        if retired:
            writer.delete_resources(retired, begun.journal)
        return written

    def _write_updates(self, begun: _Open) -> WriteResult:
        writer = self.writers[begun.settings.destination]
        return writer.apply_updates(begun.settings, self.workspace.conn,
                                    self.workspace.tables_of(begun.settings.name), begun.journal)

    def _shared_updates(self, group: ImportGroup,
                        opened: list[_Open]) -> dict[str, ActivationResult]:
        writer = self.writers[opened[0].settings.destination]
        assert isinstance(writer, BulkImportWriter)
        conn = self.workspace.conn
        shares = [(UpdateShare(o.settings, tables, count_rows(conn, tables.updates)), o.journal)
                  for o in opened for tables in [self.workspace.tables_of(o.settings.name)]]
        try:
            outcomes = self.imports.send(group, writer, conn, shares)
        except (DestinationError, LockLostError) as exc:
            return {o.planned.activation: self._fail(o, exc) for o in opened}
        return {o.planned.activation: self._finish_or_fail(o, outcomes[o.planned.activation])
                for o in opened}

    def _finish_or_fail(self, begun: _Open, updates: UpdateOutcome) -> ActivationResult:
        try:
            return self._finish(begun, updates)
        except LockLostError as exc:  # fenced: nothing recorded after the lock was lost
            return self._fail(begun, exc)

    def _finish(self, begun: _Open, updates: UpdateOutcome) -> ActivationResult:
        """Record what is now applied (deferred updates' rows with no hash, so the next run
        sends them), end the run and give the lock back."""
        name, tables = begun.settings.name, self.workspace.tables_of(begun.settings.name)
        deferred = updates if isinstance(updates, UpdatesDeferred) else None
        sent = WriteResult(0, 0) if deferred else updates
        assert isinstance(sent, WriteResult)
        snapshot = tables.members
        if deferred is not None or sent.unsettled:
            snapshot = without_hashes_of_updates(self.workspace.conn, tables)
        planned = begun.planned
        remote = RemoteList(planned.destination, planned.target, planned.remote_name,
                            planned.remote_id)
        self.state.write_snapshot_from_duckdb(name, self.workspace.conn, snapshot,
                                              hash_format=self.workspace.hash_format,
                                              remote=remote, taken_at=self.clock())
        self.workspace.record_warehouse(name, self.state.snapshot_info(name), snapshot)
        members = begun.members
        counts = {**_audience(begun.planned),
                  "members_sent": members.sent, "members_applied": members.applied,
                  "members_not_found": members.not_found, "updates_sent": sent.sent,
                  "updates_applied": sent.applied, "updates_rejected": sent.rejected}
        if members.unconfirmed:
            counts["members_unconfirmed"] = members.sent
        if deferred is not None:
            counts["updates_deferred"] = deferred.rows
            self.imports.record_deferral(begun.run_id, name, deferred)
        self.state.finish_run(begun.run_id, RunStatus.SUCCEEDED, counts=counts,
                              finished_at=self.clock())
        record_applied(self.state, begun.planned, begun.settings.deletion_policy, self.clock())
        self.progress.finish(name, "applied")
        message = deferred.budget.deferral() if deferred else ""
        if sent.unsettled:
            message = (f"{sent.rejected:,} of {sent.sent:,} profile updates rejected by the "
                       "destination, which does not say which: all are sent again next run")
        result = ActivationResult(name, Outcome.APPLIED, members, sent, message=message,
                                  seconds=time.perf_counter() - begun.started,
                                  run_id=begun.run_id)
        return self._release(begun.stack, begun.keeper, result)

    def _fail(self, begun: _Open, exc: Exception) -> ActivationResult:
        # Fenced once the lock is lost: the run stays `running` for the lock's holder to
        # resume, and giving the lock back below fails the activation, saying so.
        with contextlib.suppress(LockLostError):
            self.state.finish_run(begun.run_id, RunStatus.FAILED, error=str(exc),
                                  finished_at=self.clock())
        self.progress.finish(begun.settings.name, "failed")
        failed = ActivationResult(begun.settings.name, Outcome.FAILED, message=str(exc),
                                  run_id=begun.run_id)
        return self._release(begun.stack, begun.keeper, failed)

    def _interrupted(self, begun: _Open) -> ActivationResult:
        """Ctrl-C while `begun` was written (its batches in flight are journaled by then):
        its run is recorded as interrupted, so the next plan reads the destination's actual
        membership, and its lock given back. Best effort: if the store fails now, the run
        stays `running` and the next apply marks it interrupted all the same."""
        name = begun.settings.name
        message = f"Ctrl-C {begun.journal.describe_progress()}"
        try:
            self.state.finish_run(begun.run_id, RunStatus.INTERRUPTED,
                                  error=f"interrupted: {message}; the next apply resumes it",
                                  finished_at=self.clock())
            self.progress.finish(name, "interrupted")
            begun.stack.close()
            self.state.release_lock(begun.keeper.lock)
        except Exception as exc:  # saying what was done matters more now
            log.warning("%s: the interruption was not fully recorded (%s); the next apply "
                        "resumes it anyway", name, exc)
        return ActivationResult(name, Outcome.INTERRUPTED, begun.members, message=message,
                                seconds=time.perf_counter() - begun.started,
                                run_id=begun.run_id)

    def _remove(self, planned: ActivationPlan, keeper: LockKeeper) -> ActivationResult:
        try:
            done = apply_removal(self.state, self.writers.get(planned.destination), planned,
                                 keeper, self.clock)
        except (DestinationError, LockLostError) as exc:
            return ActivationResult(planned.activation, Outcome.FAILED, message=str(exc))
        outcome = Outcome.APPLIED if done else Outcome.UNCHANGED
        return ActivationResult(planned.activation, outcome, message=done or "")

    def _record_refusal(self, name: str, status: RunStatus, message: str) -> str:
        """A run that wrote nothing (plan error, guard stop) still goes in the history:
        `status` shows it and warnings compare a run's health with the previous one."""
        run_id = self.state.start_run(name, started_at=self.clock())
        self.state.finish_run(run_id, status, error=message, finished_at=self.clock())
        return run_id


def _audience(planned: ActivationPlan) -> dict[str, int]:
    """The audience's size and matched part, for the match rate `status` shows."""
    if planned.members is None:
        return {}
    return {"audience_desired": planned.members.desired,
            "audience_matched": planned.members.matched}
