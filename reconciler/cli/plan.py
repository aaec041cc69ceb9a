"""`reconciler plan`: what apply would change, read-only (no lock, no write call)."""
from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer

from reconciler.cli.app import NOW_OPTION, app, user_errors
from reconciler.cli.manifests import DEFAULT_PATH, print_problems
from reconciler.clock import SYSTEM_CLOCK, Clock, clock_from
from reconciler.destinations.base import DestinationObserver, Structure
from reconciler.destinations.factory import open_observer
from reconciler.errors import ManifestError, ReconcilerError
from reconciler.executing.importplan import annotate_imports
from reconciler.manifests.diagnostics import has_errors
from reconciler.manifests.loading import load_project
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Project
from reconciler.manifests.settings import effective_activations
from reconciler.planning.plan import Plan
from reconciler.planning.planfile import (
    Fingerprint,
    fingerprint_of,
    structure_hash,
    write_plan_file,
)
from reconciler.planning.planner import Planner, PlanOptions, Workspace
from reconciler.planning.removal import removed_records
from reconciler.planning.render import render_json, render_markdown, render_text
from reconciler.state import RunStatus, StateReader, open_state_reader

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


@dataclass(frozen=True)
class PlanRun:
    plan: Plan
    fingerprint: Fingerprint


def _chosen(project: Project, activations: list[str], reader: StateReader) -> list[str]:
    """The named activations, else all; with those removed from the manifests that the state
    still holds (their plan deletes or keeps the remote list, see planning/removal.py)."""
    settings = effective_activations(project)
    removed = removed_records(reader.activation_records(), settings)
    unknown = [name for name in activations if name not in settings and name not in removed]
    if unknown:
        raise ReconcilerError(f"no activation named {', '.join(unknown)} "
                              f"(defined: {', '.join(sorted(settings))})")
    return activations or sorted({*settings, *removed})


@contextlib.contextmanager
def open_observers(project: Project, chosen: list[str],
                   clock: Clock) -> Iterator[dict[str, DestinationObserver]]:
    settings = effective_activations(project)
    destinations = project.of_kind(Kind.DESTINATION)
    observers: dict[str, DestinationObserver] = {}
    try:
        for name in sorted({settings[a].destination for a in chosen if a in settings}):
            manifest = destinations[name]
            observers[name] = open_observer(name, manifest.document.spec,
                                            manifest.file.parent, clock)
        yield observers
    finally:
        for observer in observers.values():
            observer.close()


def remote_fingerprint(structures: dict[str, Structure]) -> dict[str, str]:
    return {name: structure_hash([[r.model_dump(mode="json") for r in s.resources],
                                  list(s.errors), s.list_exists])
            for name, s in structures.items()}


def make_plan(project: Project, *, activations: list[str], refresh: bool,
              state: str | None, workspace: Workspace, show_members: bool = False,
              clock: Clock = SYSTEM_CLOCK) -> PlanRun:
    """Plan the chosen activations (all when none is named) against their destinations;
    `clock` says when (relative conditions, the day whose import budget counts)."""
    moment = clock.now()
    reader = open_state_reader(state_location(state))
    try:
        chosen = _chosen(project, activations, reader)
        settings = effective_activations(project)
        resumed = [name for name in chosen if name in settings and needs_refresh(reader, name)]
        if resumed and not refresh:
            typer.echo(f"Resuming after an interrupted or failed apply of {', '.join(resumed)}: "
                       "reading the destinations' actual membership.", err=True)
            refresh = True
        with open_observers(project, chosen, clock) as observers:
            planner = Planner(project, reader, observers, workspace)
            try:
                plan = planner.build_plan(PlanOptions(
                    now=moment, activations=chosen, refresh=refresh,
                    show_members=show_members))
            finally:
                planner.close()
            plan = annotate_imports(plan, reader, workspace.conn, workspace.tables_of,
                                    moment)
            serials = {name: reader.serial(name) for name in chosen}
            fingerprint = fingerprint_of(project, serials, remote_fingerprint(planner.structures))
    finally:
        reader.close()
    return PlanRun(plan, fingerprint)


def needs_refresh(reader: StateReader, activation: str) -> bool:
    """After a killed or failed apply the snapshot may lag the destination: read it instead."""
    if reader.unfinished_runs(activation):
        return True
    runs = reader.runs(activation, limit=1)
    return bool(runs) and runs[0].status in (RunStatus.FAILED, RunStatus.INTERRUPTED)


def current_fingerprint(project: Project, activations: list[str], state: str | None,
                        clock: Clock = SYSTEM_CLOCK) -> Fingerprint:
    """What a saved plan's inputs look like now (reads only)."""
    settings = effective_activations(project)
    reader = open_state_reader(state_location(state))
    try:
        serials = {name: reader.serial(name) for name in activations}
    finally:
        reader.close()
    with open_observers(project, activations, clock) as observers:
        structures = {name: observers[settings[name].destination].plan_structure(settings[name])
                      for name in activations if name in settings}
    return fingerprint_of(project, serials, remote_fingerprint(structures))


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
    out: Path | None = typer.Option(None, "--out", help="Save the plan for `reconciler apply "
                                    "FILE` (a zip of the plan and its change sets)."),
    show_members: bool = typer.Option(False, "--show-members", help="Show sample member keys "
                                      "unmasked (local use; refused when CI=true)."),
    now: str | None = NOW_OPTION,
) -> None:
    """Show what apply would change at each destination (reads only; never writes)."""
    with user_errors():
        if show_members and os.environ.get("CI", "").lower() == "true":
            raise ReconcilerError("--show-members prints personal data and is refused in CI "
                                  "(CI=true); use it on your own machine")
        project = load_valid_project(path)
        workspace = Workspace()
        try:
            run = make_plan(project, activations=activation, refresh=refresh, state=state,
                            workspace=workspace, show_members=show_members,
                            clock=clock_from(now))
            if out is not None:
                write_plan_file(out, run.plan, workspace, run.fingerprint, project.root)
        finally:
            workspace.close()
        result = run.plan
        typer.echo(render(result, output), nl=False)
        if out is not None:
            typer.echo(f"Saved the plan to {out}; `reconciler apply {out}` runs exactly it.",
                       err=True)
    failed = result.summary.activations_failed
    if failed:
        raise typer.Exit(1)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)
