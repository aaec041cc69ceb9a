"""`reconciler apply`: plan, show, confirm, then make the destinations match."""
from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import typer

from reconciler.cli.app import NOW_OPTION, app, user_errors
from reconciler.cli.manifests import DEFAULT_PATH
from reconciler.cli.plan import (
    STATE_ENV,
    current_fingerprint,
    load_valid_project,
    make_plan,
    state_location,
)
from reconciler.clock import SYSTEM_CLOCK, Clock, clock_from
from reconciler.destinations.base import DestinationWriter
from reconciler.destinations.factory import open_writer
from reconciler.executing.executor import ActivationResult, Executor, Outcome
from reconciler.executing.progress import progress_for_terminal
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Project
from reconciler.notifying import notify_results, previous_health
from reconciler.planning.plan import Plan
from reconciler.planning.planfile import StalePlanError, read_plan_file
from reconciler.planning.planner import Workspace
from reconciler.planning.render import render_text
from reconciler.state import open_state_store


@app.command()
def apply(
    path: Path = typer.Argument(DEFAULT_PATH, help="Manifests (a file or directory), or a plan "
                                "file saved by `reconciler plan --out`."),
    activation: list[str] = typer.Option([], "--activation", "-a",
                                         help="Apply only this activation (repeatable)."),
    auto_approve: bool = typer.Option(False, "--auto-approve",
                                      help="Apply without asking (for CI)."),
    allow_mass_removal: bool = typer.Option(False, "--allow-mass-removal",
                                            help="Apply even when a guard would stop."),
    fail_fast: bool = typer.Option(False, "--fail-fast",
                                   help="Stop at the first failing activation."),
    refresh: bool = typer.Option(False, "--refresh", help="Read remote members before planning."),
    state: str | None = typer.Option(None, "--state", help=f"State store (default ${STATE_ENV}, "
                                     "else .reconciler/state.duckdb)."),
    now: str | None = NOW_OPTION,
) -> None:
    """Plan, show the plan, ask for confirmation, then apply it (or run a saved plan)."""
    with user_errors():
        clock = clock_from(now)
        workspace = Workspace()
        try:
            if zipfile.is_zipfile(path):
                project, plan, serials = load_saved_plan(path, workspace, state, clock)
            else:
                project = load_valid_project(path)
                run = make_plan(project, activations=activation, refresh=refresh, state=state,
                                workspace=workspace, clock=clock)
                plan, serials = run.plan, run.fingerprint.state_serials
            typer.echo(render_text(plan), nl=False)
            if plan.has_changes and not auto_approve and not typer.confirm(
                    "Apply these changes?", default=False):
                typer.echo("Apply cancelled; nothing was changed.")
                raise typer.Exit(1)
            # Without changes this still records the first snapshot of activations in sync.
            results = execute(project, plan, workspace, state, allow_mass_removal, fail_fast,
                              clock=clock, planned_serials=serials)
        finally:
            workspace.close()
    for result in results:
        typer.echo(describe_result(result))
    failed = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.STOPPED)]
    applied = sum(r.outcome is Outcome.APPLIED for r in results)
    typer.echo(f"Apply complete: {applied} applied, {len(failed)} failed or stopped.")
    if failed:
        raise typer.Exit(1)


def load_saved_plan(path: Path, workspace: Workspace, state: str | None,
                    clock: Clock = SYSTEM_CLOCK) -> tuple[Project, Plan, dict[str, int]]:
    """A saved plan, its project and the state serials it was made at; refused when anything
    it read has changed since."""
    plan, saved, root = read_plan_file(path, workspace)
    project = load_valid_project(root)
    names = [a.activation for a in plan.activations]
    reasons = saved.differences(current_fingerprint(project, names, state, clock))
    if reasons:
        raise StalePlanError(f"the saved plan {path} is stale: {'; '.join(reasons)}. "
                             "Run `reconciler plan` again.")
    return project, plan, saved.state_serials


def execute(project: Project, plan: Plan, workspace: Workspace, state: str | None,
            allow_mass_removal: bool, fail_fast: bool, clock: Clock = SYSTEM_CLOCK,
            planned_serials: Mapping[str, int] | None = None) -> list[ActivationResult]:
    """Apply `plan` through the destinations' writers. `planned_serials`: the state serials
    the plan was made at (an activation whose state moved since is refused); `clock` times
    the runs and the notifications."""
    destinations = project.of_kind(Kind.DESTINATION)
    writers: dict[str, DestinationWriter] = {}
    store = open_state_store(state_location(state))
    try:
        # A removed activation's destination may be gone too (its plan then writes nothing).
        for name in sorted({a.destination for a in plan.activations} & set(destinations)):
            manifest = destinations[name]
            writers[name] = open_writer(name, manifest.document.spec,
                                        manifest.file.parent)
        progress = progress_for_terminal()
        executor = Executor(workspace, writers, store, clock=clock.now,
                            planned_serials=planned_serials, progress=progress)
        # Warnings go out when health changes: compare with the runs before this one.
        previous = previous_health(project, store, [a.activation for a in plan.activations])
        try:
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


def describe_result(result: ActivationResult) -> str:
    line = f"{result.activation}: {result.outcome.value}"
    if result.members is not None and result.members.sent:
        line += f"; members {result.members.applied:,}/{result.members.sent:,} confirmed"
        if result.members.not_found:
            line += f" ({result.members.not_found:,} no longer at the destination)"
    if result.updates is not None and result.updates.sent:
        line += f"; profile updates {result.updates.applied:,}/{result.updates.sent:,}"
    if result.message:
        line += f" — {result.message}"
    return line
