"""`reconciler run --due`: sync exactly the activations whose schedule is due (for cron jobs)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer

from reconciler.cli.app import (
    LOCK_TIMEOUT_OPTION,
    MANIFESTS_HELP,
    NOW_OPTION,
    STATE_OPTION,
    app,
    locate_project,
    use_state,
    user_errors,
)
from reconciler.cli.apply import describe_result, warn_of_undeliverable_channels
from reconciler.cli.colour import NO_COLOR_OPTION, echo_plan
from reconciler.cli.interrupts import interruptible
from reconciler.cli.plan import load_valid_project, print_note
from reconciler.clock import clock_from
from reconciler.destinations.readiness import api_key_expiries, expiry_finding
from reconciler.errors import ReconcilerError
from reconciler.executing.executor import Outcome
from reconciler.executing.progress import plan_steps_for_terminal
from reconciler.manifests.project import Project
from reconciler.operations.applying import execute
from reconciler.operations.notices import notify_expiring_keys
from reconciler.operations.plans import make_plan
from reconciler.operations.schedule import due_statuses
from reconciler.planning.planner import Workspace
from reconciler.planning.render import render_text


@app.command()
def run(
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    due: bool = typer.Option(False, "--due", help="Sync the activations whose schedule is due."),
    now: str | None = NOW_OPTION,
    lock_timeout: float = LOCK_TIMEOUT_OPTION,
    allow_mass_removal: bool = typer.Option(False, "--allow-mass-removal",
                                            help="Apply even when a guard would stop."),
    state: str | None = STATE_OPTION,
    no_color: bool = NO_COLOR_OPTION,
) -> None:
    """Plan and apply (without asking) every activation that is due; say when the others are."""
    with user_errors():
        if not due:
            raise ReconcilerError("`reconciler run` needs --due (use `reconciler apply` to sync "
                                  "everything now)")
        where = locate_project(path)
        project = load_valid_project(where.manifests)
        state = use_state(state, project.root, where.file)
        clock = clock_from(now)
        _warn_of_expiring_keys(project, clock.now().date())
        notify_expiring_keys(project, state, clock.now())
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
                                workspace=workspace, clock=clock, note=print_note,
                                steps=plan_steps_for_terminal(), writing=True)
            echo_plan(render_text(planned.plan), no_color)
            warn_of_undeliverable_channels(project, planned.plan)
            results = interruptible(lambda: execute(
                project, planned.plan, workspace, state, allow_mass_removal, False, clock=clock,
                planned_serials=planned.fingerprint.state_serials,
                lock_wait_seconds=lock_timeout), describe_result)
        finally:
            workspace.close()
    for result in results:
        typer.echo(describe_result(result))
    if any(r.outcome in (Outcome.FAILED, Outcome.STOPPED) for r in results):
        raise typer.Exit(1)


def _warn_of_expiring_keys(project: Project, today: dt.date) -> None:
    """A key expiring within two weeks (`credentials.expiresOn`) is said on every scheduled
    run, so its renewal is not left to the first sync that fails."""
    for name, expires_on in api_key_expiries(project).items():
        finding = expiry_finding(expires_on, today)
        if finding is not None and finding.ok is False:
            typer.echo(f"Warning: destination {name}: {finding.message}", err=True)
            if os.environ.get("GITHUB_ACTIONS", "").lower() == "true":
                typer.echo(f"::warning::destination {name}: {finding.message}")
