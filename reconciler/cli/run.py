"""`reconciler run --due`: sync exactly the activations whose schedule is due (for cron jobs)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from reconciler.cli.app import NOW_OPTION, app, user_errors
from reconciler.cli.apply import describe_result, execute
from reconciler.cli.manifests import DEFAULT_PATH
from reconciler.cli.plan import (
    STATE_ENV,
    load_valid_project,
    make_plan,
    state_location,
)
from reconciler.clock import clock_from
from reconciler.errors import ReconcilerError
from reconciler.executing.due import Due, due_status
from reconciler.executing.executor import Outcome
from reconciler.manifests.project import Project
from reconciler.manifests.settings import effective_activations
from reconciler.planning.planner import Workspace
from reconciler.planning.render import render_text
from reconciler.state import RunStatus, open_state_reader


def due_statuses(project: Project, state: str | None, now: dt.datetime) -> list[Due]:
    """Every activation's due status, from its last successful run in the state store."""
    reader = open_state_reader(state_location(state))
    try:
        statuses = []
        for name, settings in sorted(effective_activations(project).items()):
            runs = reader.runs(name, limit=50)
            last = next((r for r in runs if r.status is RunStatus.SUCCEEDED), None)
            deferred = reader.deferred_updates(last.run_id) if last else None
            statuses.append(due_status(settings, last.started_at if last else None, now,
                                       deferred.until if deferred else None))
        return statuses
    finally:
        reader.close()


@app.command()
def run(
    path: Path = typer.Argument(DEFAULT_PATH, help="A manifest file or a directory of them."),
    due: bool = typer.Option(False, "--due", help="Sync the activations whose schedule is due."),
    now: str | None = NOW_OPTION,
    allow_mass_removal: bool = typer.Option(False, "--allow-mass-removal"),
    state: str | None = typer.Option(None, "--state", help=f"State store (default ${STATE_ENV}, "
                                     "else .reconciler/state.duckdb)."),
) -> None:
    """Plan and apply (without asking) every activation that is due; say when the others are."""
    with user_errors():
        if not due:
            raise ReconcilerError("`reconciler run` needs --due (use `reconciler apply` to sync "
                                  "everything now)")
        project = load_valid_project(path)
        clock = clock_from(now)
        statuses = due_statuses(project, state, clock.now())
        for status in statuses:
            if not status.due:
                typer.echo(f"skip {status.activation}: {status.reason}")
        chosen = [s.activation for s in statuses if s.due]
        if not chosen:
            typer.echo("Nothing is due.")
            raise typer.Exit(0)
        for status in statuses:
            if status.due:
                typer.echo(f"sync {status.activation}: {status.reason}")
        workspace = Workspace()
        try:
            planned = make_plan(project, activations=chosen, refresh=False, state=state,
                                workspace=workspace, clock=clock)
            typer.echo(render_text(planned.plan), nl=False)
            results = execute(project, planned.plan, workspace, state, allow_mass_removal, False,
                              clock=clock,
                              planned_serials=planned.fingerprint.state_serials)
        finally:
            workspace.close()
    for result in results:
        typer.echo(describe_result(result))
    if any(r.outcome in (Outcome.FAILED, Outcome.STOPPED) for r in results):
        raise typer.Exit(1)
