"""`reconciler demo`: the main job on the embedded defaults, as a finite command.

At this stage it validates the example project and shows its activations as they will sync.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reconciler.cli.app import app
from reconciler.cli.manifests import DEFAULT_PATH, print_problems
from reconciler.manifests.diagnostics import has_errors
from reconciler.manifests.project import Project, load_project
from reconciler.manifests.settings import EffectiveActivation, effective_activations


@app.command()
def demo(
    path: Path = typer.Option(DEFAULT_PATH, "--path", help="The example project."),
) -> None:
    """Run the demo on the example project (validate, then show each activation)."""
    # Off a terminal (CI logs, pipes) rich would wrap the table at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(f"[bold]1. Validate[/bold] {path}/")
    project, diagnostics = load_project(path)
    print_problems(diagnostics)
    if has_errors(diagnostics):
        raise typer.Exit(1)
    counts = ", ".join(
        f"{len(project.of_kind(kind))} {kind.lower()}(s)"
        for kind in ("Source", "Model", "Segment", "Destination", "Activation")
    )
    console.print(f"   valid: {counts}\n")
    console.print("[bold]2. Activations[/bold] (effective settings, destination defaults merged)")
    console.print(activations_table(project))
    console.print(
        "\nNext: `reconciler show activation NAME` explains where each setting comes from."
    )


def activations_table(project: Project) -> Table:
    table = Table(show_lines=False)
    for column in ("activation", "audience", "destination", "remote list", "key", "fields",
                   "schedule"):
        table.add_column(column)
    for name, settings in sorted(effective_activations(project).items()):
        table.add_row(
            name,
            f"segment {settings.segment}" if settings.segment else f"model {settings.model}",
            f"{settings.destination} ({settings.destination_type})",
            _remote_name(settings),
            f"{settings.match_key.source} → {settings.match_key.destination}"
            if settings.match_key else "-",
            ", ".join(f.destination + (" (new)" if f.create else "") for f in settings.fields)
            or "-",
            _schedule_text(settings.schedule),
        )
    return table


def _remote_name(settings: EffectiveActivation) -> str:
    if settings.destination_type == "selligent":
        return f"static segment {settings.selligent_api_name}"
    return f"target list {settings.audience_name!r} (valid {settings.validity_period})"


def _schedule_text(schedule: object) -> str:
    every = getattr(schedule, "every", None)
    if every:
        return f"every {every}"
    cron = getattr(schedule, "cron", None)
    if cron:
        return f"cron {cron} ({getattr(schedule, 'timezone', 'UTC')})"
    return "manual"
