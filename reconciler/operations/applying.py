"""Executing a Plan: open the destinations' writers and the state store, run the executor
with progress reporting, then send the notifications whose health changed."""
from __future__ import annotations

from collections.abc import Mapping

from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.destinations.base import DestinationWriter
from reconciler.destinations.factory import open_writer
from reconciler.executing.executor import LEASE_SECONDS, ActivationResult, Executor
from reconciler.executing.progress import progress_for_terminal
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Project
from reconciler.notifying import notify_results, previous_health
from reconciler.operations.budgets import shared_request_budgets
from reconciler.operations.plans import state_location
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Workspace
from reconciler.state import open_state_store


def execute(project: Project, plan: Plan, workspace: Workspace, state: str | None,
            allow_mass_removal: bool, fail_fast: bool, clock: Clock = SYSTEM_CLOCK,
            planned_serials: Mapping[str, int] | None = None,
            lock_wait_seconds: float = LEASE_SECONDS) -> list[ActivationResult]:
    """Apply `plan` through the destinations' writers. `planned_serials`: the state serials
    the plan was made at (an activation whose state moved since is refused); `clock` times
    the runs and the notifications; `lock_wait_seconds`: how long an activation locked by
    another apply is waited for."""
    destinations = project.of_kind(Kind.DESTINATION)
    writers: dict[str, DestinationWriter] = {}
    location = state_location(state)
    store = open_state_store(location)
    try:
        # A removed activation's destination may be gone too (its plan then writes nothing).
        for name in sorted({a.destination for a in plan.activations} & set(destinations)):
            manifest = destinations[name]
            writers[name] = open_writer(name, manifest.document.spec,
                                        manifest.file.parent)
        progress = progress_for_terminal()
        executor = Executor(workspace, writers, store, clock=clock.now,
                            planned_serials=planned_serials, progress=progress,
                            lock_wait_seconds=lock_wait_seconds)
        # Warnings go out when health changes: compare with the runs before this one.
        previous = previous_health(project, store, [a.activation for a in plan.activations])
        try:
            with shared_request_budgets(location):
                results = executor.apply_plan(plan, allow_mass_removal=allow_mass_removal,
                                              fail_fast=fail_fast)
        finally:
            progress.close()
        notify_results(project, results, previous, now=clock.now())
        return results
    finally:
        for writer in writers.values():
            writer.close()
        store.close()
