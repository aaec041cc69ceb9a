"""`reconciler plan`: what apply would change, read-only (no lock, no write call)."""
from __future__ import annotations

import datetime as dt
import enum
import os
from pathlib import Path

import typer

from reconciler.cli.app import app, user_errors
from reconciler.cli.manifests import DEFAULT_PATH, print_problems
from reconciler.destinations.base import DestinationObserver
from reconciler.destinations.factory import open_observer
from reconciler.errors import ManifestError, ReconcilerError
from reconciler.manifests.diagnostics import has_errors
from reconciler.manifests.project import Project, load_project
from reconciler.manifests.settings import effective_activations
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Planner, PlanOptions, Workspace
from reconciler.planning.render import render_json, render_markdown, render_text
from reconciler.state import open_state_reader

STATE_ENV = "RECONCILER_STATE_URL"


class PlanFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def state_location(option: str | None) -> str | None:
    """--state, else $RECONCILER_STATE_URL, else the default local DuckDB file."""
    return option or os.environ.get(STATE_ENV) or None


def load_valid_project(path: Path) -> Project:
    project, diagnostics = load_project(path)
    print_problems(diagnostics, only_errors=True)
    if has_errors(diagnostics):
        raise ManifestError(f"{path} has invalid manifests; fix them first")
    return project


def make_plan(project: Project, *, activations: list[str], refresh: bool,
              state: str | None, workspace: Workspace) -> Plan:
    """Plan the chosen activations (all when none is named) against their destinations."""
    settings = effective_activations(project)
    unknown = [name for name in activations if name not in settings]
    if unknown:
        raise ReconcilerError(f"no activation named {', '.join(unknown)} "
                              f"(defined: {', '.join(sorted(settings))})")
    chosen = activations or sorted(settings)
    destinations = project.of_kind("Destination")
    observers: dict[str, DestinationObserver] = {}
    reader = open_state_reader(state_location(state))
    try:
        for name in sorted({settings[a].destination for a in chosen}):
            manifest = destinations[name]
            observers[name] = open_observer(name, manifest.document.spec,  # type: ignore[arg-type]
                                            manifest.file.parent)
        planner = Planner(project, reader, observers, workspace)
        try:
            return planner.build_plan(PlanOptions(now=dt.datetime.now(dt.UTC),
                                                  activations=chosen, refresh=refresh))
        finally:
            planner.close()
    finally:
        for observer in observers.values():
            observer.close()
        reader.close()


def render(plan: Plan, output: PlanFormat) -> str:
    if output is PlanFormat.JSON:
        return render_json(plan)
    if output is PlanFormat.MARKDOWN:
        return render_markdown(plan)
    return render_text(plan)


@app.command()
def plan(
    path: Path = typer.Argument(DEFAULT_PATH, help="A manifest file or a directory of them."),
    activation: list[str] = typer.Option([], "--activation", "-a",
                                         help="Plan only this activation (repeatable)."),
    refresh: bool = typer.Option(False, "--refresh",
                                 help="Read the remote members too, to show drift."),
    output: PlanFormat = typer.Option(PlanFormat.TEXT, "--format", help="text, json or markdown"),
    state: str | None = typer.Option(None, "--state", help=f"State store: a DuckDB file or a "
                                     f"postgresql:// URL (default ${STATE_ENV}, else "
                                     ".reconciler/state.duckdb)."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 without changes, 2 with changes."),
) -> None:
    """Show what apply would change at each destination (reads only; never writes)."""
    with user_errors():
        project = load_valid_project(path)
        workspace = Workspace()
        try:
            result = make_plan(project, activations=activation, refresh=refresh, state=state,
                               workspace=workspace)
        finally:
            workspace.close()
        typer.echo(render(result, output), nl=False)
    failed = result.summary.activations_failed
    if failed:
        raise typer.Exit(1)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)
