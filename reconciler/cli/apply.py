"""`reconciler apply`: plan, show, confirm, then make the destinations match."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

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
from reconciler.cli.colour import NO_COLOR_OPTION, echo_plan
from reconciler.cli.interrupts import interruptible
from reconciler.cli.plan import (
    REFRESH_INDEX_OPTION,
    REFRESH_MEMBERS_OPTION,
    REFRESH_OPTION,
    load_valid_project,
    print_note,
)
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
from reconciler.errors import ReconcilerError
from reconciler.executing.executor import ActivationResult, Outcome
from reconciler.executing.progress import plan_steps_for_terminal
from reconciler.manifests.project import Project
from reconciler.operations.applying import execute
from reconciler.operations.plans import channel_environment, load_saved_plan, make_plan
from reconciler.planning.plan import Plan
from reconciler.planning.planfile import is_plan_file
from reconciler.planning.planner import Refresh, Workspace
from reconciler.planning.render import render_text


@app.command()
def apply(
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP[:-1] + "; or a plan file "
                                       "saved by `reconciler plan --out`.", show_default=False),
    activation: list[str] = typer.Option([], "--activation", "-a", metavar="NAME",
                                         help="Apply only this activation (repeatable)."),
    label: list[str] = LABEL_OPTION,
    auto_approve: bool = typer.Option(False, "--auto-approve",
                                      help="Apply without asking (for CI)."),
    allow_mass_removal: bool = typer.Option(False, "--allow-mass-removal",
                                            help="Apply even when a guard would stop."),
    fail_fast: bool = typer.Option(False, "--fail-fast",
                                   help="Stop at the first failing activation."),
    refresh: bool = REFRESH_OPTION,
    refresh_members: bool = REFRESH_MEMBERS_OPTION,
    refresh_index: bool = REFRESH_INDEX_OPTION,
    output: SummaryFormat = SUMMARY_FORMAT_OPTION,
    state: str | None = STATE_OPTION,
    now: str | None = NOW_OPTION,
    lock_timeout: float = LOCK_TIMEOUT_OPTION,
    no_color: bool = NO_COLOR_OPTION,
) -> None:
    """Plan, show the plan, ask for confirmation, then apply it; or apply a plan saved by
    `plan --out` without asking (refused if anything it read has changed)."""
    with user_errors(), stdout_for(output) as stdout:
        clock = clock_from(now)
        saved = path is not None and is_plan_file(path)
        if output is SummaryFormat.JSON and not (auto_approve or saved):
            raise ReconcilerError("--format json applies without asking: add --auto-approve "
                                  "(or apply a plan saved by `reconciler plan --out`)")
        workspace = Workspace()
        try:
            if saved:
                if activation or label or refresh or refresh_members or refresh_index:
                    raise ReconcilerError("a saved plan is applied whole, as it was planned: "
                                          "-a/--activation, -l/--label and --refresh go to "
                                          "`reconciler plan --out`")
                # Terraform's way: the plan was reviewed when it was saved; no question asked.
                assert path is not None
                project, plan, serials, state = _saved(path, workspace, state, clock,
                                                       no_color)
            else:
                project, plan, serials, state = _planned(
                    path, activation, label, Refresh.of(refresh, refresh_members), state,
                    workspace, clock, auto_approve, no_color, refresh_index)
            warn_of_undeliverable_channels(project, plan)
            # Without changes this still records the first snapshot of activations in sync.
            results = interruptible(lambda: execute(
                project, plan, workspace, state, allow_mass_removal, fail_fast, clock=clock,
                planned_serials=serials, lock_wait_seconds=lock_timeout), describe_result,
                then=summarize("apply", plan, output, stdout))
        finally:
            workspace.close()
        report_results("apply", plan, results, output, stdout)


def _planned(path: Path | None, activation: list[str], label: list[str], refresh: Refresh,
             option: str | None, workspace: Workspace, clock: Clock, auto_approve: bool,
             no_color: bool, refresh_index: bool = False
             ) -> tuple[Project, Plan, dict[str, int], str | None]:
    """Plan the manifests, show the plan and ask (unless --auto-approve or no changes)."""
    where = locate_project(path)
    project = load_valid_project(where.manifests)
    chosen = chosen_activations(project, activation, label)
    state = use_state(option, project.root, where.file)
    run = make_plan(project, activations=chosen, refresh=refresh, state=state,
                    workspace=workspace, clock=clock, note=print_note,
                    steps=plan_steps_for_terminal(), writing=True,
                    refresh_index=refresh_index)
    echo_plan(render_text(run.plan), no_color)
    if run.plan.has_changes and not auto_approve and not typer.confirm(
            "Apply these changes?", default=False):
        typer.echo("Apply cancelled; nothing was changed.")
        raise typer.Exit(1)
    return project, run.plan, run.fingerprint.state_serials, state


def _saved(path: Path, workspace: Workspace, option: str | None, clock: Clock,
           no_color: bool) -> tuple[Project, Plan, dict[str, int], str | None]:
    """A saved plan checked against the world (refused when stale), shown before it runs;
    the state it is checked against is the one its project names (unless --state)."""
    saved = load_saved_plan(
        path, workspace, lambda root: use_state(option, root, locate_project(root).file),
        load_valid_project, clock)
    echo_plan(render_text(saved.plan), no_color)
    typer.echo(f"Applying the saved plan {path} (checked: nothing it read has changed).",
               err=True)
    return saved.project, saved.plan, saved.state_serials, saved.state


def warn_of_undeliverable_channels(project: Project, plan: Plan) -> None:
    """Said before writing, all at once: the channels whose variables are missing or empty
    would not get this apply's warnings (the sync itself goes on)."""
    problems = channel_environment(project, [a.activation for a in plan.activations])
    if problems:
        listed = "".join(f"\n  {problem}" for problem in problems)
        typer.echo(f"Warning: these notification channels cannot be reached (their warnings "
                   f"would not be delivered):{listed}", err=True)


def summarize(command: str, plan: Plan, output: SummaryFormat, stdout: TextIO,
              skipped: Sequence[Skipped] = ()
              ) -> Callable[[list[ActivationResult]], None] | None:
    """What an interrupted apply or run adds to its report: the JSON summary, in JSON mode."""
    if output is not SummaryFormat.JSON:
        return None
    return lambda results: write_document(stdout, summary_document(
        command, plan, results, outcome=RunOutcome.INTERRUPTED, skipped=skipped))


def report_results(command: str, plan: Plan, results: list[ActivationResult],
                   output: SummaryFormat, stdout: TextIO,
                   skipped: Sequence[Skipped] = ()) -> None:
    """A line per activation (on stderr in JSON mode), the JSON summary when asked; exit 1
    when an activation failed or a guard stopped it."""
    for result in results:
        typer.echo(describe_result(result))
    failed = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.STOPPED)]
    if command == "apply":
        applied = sum(r.outcome is Outcome.APPLIED for r in results)
        typer.echo(f"Apply complete: {applied} applied, {len(failed)} failed or stopped.")
    if output is SummaryFormat.JSON:
        write_document(stdout, summary_document(command, plan, results, skipped=skipped))
    if failed:
        raise typer.Exit(1)


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
