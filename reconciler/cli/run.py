"""`reconciler run --due`: sync exactly the activations whose schedule is due (for cron jobs)."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import typer

from reconciler.cli.app import (
    LABEL_OPTION,
    LOCK_TIMEOUT_OPTION,
    MANIFESTS_HELP,
    NOW_OPTION,
    STATE_OPTION,
    app,
    chosen_activations,
    locate_project,
    use_state,
    user_errors,
)
from reconciler.cli.apply import (
    describe_result,
    report_results,
    summarize,
    warn_of_undeliverable_channels,
)
from reconciler.cli.colour import NO_COLOR_OPTION, echo_plan
from reconciler.cli.interrupts import interruptible
from reconciler.cli.plan import load_valid_project, print_note
from reconciler.cli.summary import (
    SUMMARY_FORMAT_OPTION,
    RunOutcome,
    Skipped,
    SummaryFormat,
    stdout_for,
    summary_document,
    write_document,
)
from reconciler.clock import Clock, clock_from
from reconciler.destinations.readiness import api_key_expiries, expiry_finding
from reconciler.errors import ReconcilerError
from reconciler.executing.executor import ActivationResult
from reconciler.executing.progress import plan_steps_for_terminal
from reconciler.manifests.project import Project
from reconciler.operations.applying import execute
from reconciler.operations.notices import notify_expiring_keys
from reconciler.operations.plans import make_plan
from reconciler.operations.schedule import due_statuses
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Refresh, Workspace
from reconciler.planning.render import render_text


@app.command()
def run(
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    due: bool = typer.Option(False, "--due", help="Sync the activations whose schedule is due."),
    label: list[str] = LABEL_OPTION,
    now: str | None = NOW_OPTION,
    lock_timeout: float = LOCK_TIMEOUT_OPTION,
    allow_mass_removal: bool = typer.Option(False, "--allow-mass-removal",
                                            help="Apply even when a guard would stop."),
    output: SummaryFormat = SUMMARY_FORMAT_OPTION,
    state: str | None = STATE_OPTION,
    no_color: bool = NO_COLOR_OPTION,
) -> None:
    """Plan and apply (without asking) every activation that is due; say when the others are."""
    with user_errors(), stdout_for(output) as stdout:
        if not due:
            raise ReconcilerError("`reconciler run` needs --due (use `reconciler apply` to sync "
                                  "everything now)")
        where = locate_project(path)
        project = load_valid_project(where.manifests)
        chosen = set(chosen_activations(project, [], label))
        state = use_state(state, project.root, where.file)
        clock = clock_from(now)
        _warn_of_expiring_keys(project, clock.now().date())
        notify_expiring_keys(project, state, clock.now())
        statuses = [s for s in due_statuses(project, state, clock.now())
                    if not label or s.activation in chosen]
        skipped = [Skipped(s.activation, s.reason, s.next_at.isoformat() if s.next_at else None)
                   for s in statuses if not s.due]
        for status in sorted(statuses, key=lambda s: s.due):  # the skipped first
            typer.echo(f"{'sync' if status.due else 'skip'} {status.activation}: "
                       f"{status.reason}")
        due_now = [s.activation for s in statuses if s.due]
        if not due_now:
            typer.echo("Nothing is due.")
            if output is SummaryFormat.JSON:
                write_document(stdout, summary_document(
                    "run", None, [], outcome=RunOutcome.NOTHING_DUE, skipped=skipped))
            raise typer.Exit(0)
        plan, results = _sync(project, due_now, state, clock, no_color, allow_mass_removal,
                              lock_timeout,
                              lambda plan: summarize("run", plan, output, stdout, skipped))
        report_results("run", plan, results, output, stdout, skipped)


def _sync(project: Project, names: list[str], state: str | None, clock: Clock, no_color: bool,
          allow_mass_removal: bool, lock_timeout: float,
          then: Callable[[Plan], Callable[[list[ActivationResult]], None] | None]
          ) -> tuple[Plan, list[ActivationResult]]:
    """Plan the due activations, show the plan, apply it (Ctrl-C: report, `then`, exit)."""
    workspace = Workspace()
    try:
        planned = make_plan(project, activations=names, refresh=Refresh.NONE, state=state,
                            workspace=workspace, clock=clock, note=print_note,
                            steps=plan_steps_for_terminal(), writing=True)
        echo_plan(render_text(planned.plan), no_color)
        warn_of_undeliverable_channels(project, planned.plan)
        results = interruptible(lambda: execute(
            project, planned.plan, workspace, state, allow_mass_removal, False, clock=clock,
            planned_serials=planned.fingerprint.state_serials,
            lock_wait_seconds=lock_timeout), describe_result, then(planned.plan))
    finally:
        workspace.close()
    return planned.plan, results


def _warn_of_expiring_keys(project: Project, today: dt.date) -> None:
    """A key expiring within two weeks (`credentials.expiresOn`) is said on every scheduled
    run, so its renewal is not left to the first sync that fails."""
    for name, expires_on in api_key_expiries(project).items():
        finding = expiry_finding(expires_on, today)
        if finding is not None and finding.ok is False:
            typer.echo(f"Warning: destination {name}: {finding.message}", err=True)
            if os.environ.get("GITHUB_ACTIONS", "").lower() == "true":
                typer.echo(f"::warning::destination {name}: {finding.message}")
