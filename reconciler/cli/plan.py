"""`reconciler plan`: what apply would change, read-only (no lock, no write call)."""
from __future__ import annotations

import enum
import os
from pathlib import Path

import typer

from reconciler.cli.app import (
    LABEL_OPTION,
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
from reconciler.cli.manifests import print_problems
from reconciler.clock import clock_from
from reconciler.errors import ManifestError, ReconcilerError
from reconciler.executing.progress import plan_steps_for_terminal
from reconciler.manifests.diagnostics import has_errors
from reconciler.manifests.loading import load_project
from reconciler.manifests.project import Project
from reconciler.operations.plans import make_plan
from reconciler.planning.plan import Plan
from reconciler.planning.planfile import (
    write_plan_file,
)
from reconciler.planning.planner import Refresh, Workspace
from reconciler.planning.render import render_json, render_markdown, render_text
from reconciler.state.encryption import configured_key

REFRESH_OPTION = typer.Option(
    False, "--refresh", help="Read the lists' members and their mapped attributes at the "
    "destination (more calls), to show and correct drift made there.")
REFRESH_INDEX_OPTION = typer.Option(
    False, "--refresh-index", help="Read every key at the destinations again (a full read of "
    "the contact index kept in the state) instead of checking only the keys it does not "
    "know; --refresh does too.")
REFRESH_MEMBERS_OPTION = typer.Option(
    False, "--refresh-members", help="Read the lists' members only (fewer calls): drift in "
    "membership, not in attribute values.")


class PlanFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def load_valid_project(path: Path) -> Project:
    project, diagnostics = load_project(path)
    print_problems(diagnostics, only_errors=True)
    if has_errors(diagnostics):
        raise ManifestError(f"{path} has invalid manifests; fix them first")
    return project


def print_note(text: str) -> None:
    """What planning wants people to know on the way, on stderr (stdout stays the plan)."""
    typer.echo(text, err=True)


def render(plan: Plan, output: PlanFormat) -> str:
    if output is PlanFormat.JSON:
        return render_json(plan)
    if output is PlanFormat.MARKDOWN:
        return render_markdown(plan)
    return render_text(plan)


@app.command()
def plan(
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    activation: list[str] = typer.Option([], "--activation", "-a", metavar="NAME",
                                         help="Plan only this activation (repeatable)."),
    label: list[str] = LABEL_OPTION,
    refresh: bool = REFRESH_OPTION,
    refresh_members: bool = REFRESH_MEMBERS_OPTION,
    refresh_index: bool = REFRESH_INDEX_OPTION,
    output: PlanFormat = typer.Option(PlanFormat.TEXT, "--format", help="text, json or markdown"),
    state: str | None = STATE_OPTION,
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 without changes, 2 with changes "
                                           "to apply, 3 when a guard will stop an "
                                           "activation (1: errors)."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE",
                                    help="Save the plan for `reconciler apply FILE` (a zip of "
                                    "the plan and its change sets)."),
    show_members: bool = typer.Option(False, "--show-members", help="Show sample member keys "
                                      "unmasked (local use; refused when CI=true)."),
    no_color: bool = NO_COLOR_OPTION,
    now: str | None = NOW_OPTION,
) -> None:
    """Show what apply would change at each destination (reads only; never writes there)."""
    with user_errors():
        if show_members and os.environ.get("CI", "").lower() == "true":
            raise ReconcilerError("--show-members prints personal data and is refused in CI "
                                  "(CI=true); use it on your own machine")
        where = locate_project(path)
        project = load_valid_project(where.manifests)
        chosen = chosen_activations(project, activation, label)
        state = use_state(state, project.root, where.file)
        workspace = Workspace()
        try:
            run = make_plan(project, activations=chosen, state=state,
                            refresh=Refresh.of(refresh, refresh_members),
                            workspace=workspace, show_members=show_members,
                            clock=clock_from(now), note=print_note,
                            steps=plan_steps_for_terminal(), refresh_index=refresh_index)
            if out is not None:
                write_plan_file(out, run.plan, workspace, run.fingerprint, project.root,
                                key=configured_key(state))  # sealed when the state is
        finally:
            workspace.close()
        result = run.plan
        if output is PlanFormat.TEXT:
            echo_plan(render_text(result), no_color)
        else:
            typer.echo(render(result, output), nl=False)
        if out is not None:
            typer.echo(f"Saved the plan to {out}; `reconciler apply {out}` runs exactly it.",
                       err=True)
    raise typer.Exit(exit_code(result, detailed_exitcode))


def exit_code(result: Plan, detailed: bool) -> int:
    """1 when an activation could not be planned; with --detailed-exitcode, else 3 when a
    guard will stop an activation, 2 with changes, 0 without (plain: 0 unless an error)."""
    if result.summary.activations_failed:
        return 1
    if not detailed:
        return 0
    if result.summary.activations_blocked:
        return 3
    return 2 if result.has_changes else 0
