"""`reconciler import ACTIVATION`: take over a list that already exists at the destination.

A thin layer over `operations.importing.import_list`: options, the state line, what was
recorded and what the next plan does. Nothing is written at the destination.
"""
from __future__ import annotations

from pathlib import Path

import typer

from reconciler.cli.app import (
    MANIFESTS_HELP,
    NOW_OPTION,
    STATE_OPTION,
    app,
    locate_project,
    use_state,
    user_errors,
)
from reconciler.cli.plan import load_valid_project
from reconciler.clock import clock_from
from reconciler.operations.importing import ImportResult, import_list


@app.command("import")
def import_activation(
    activation: str = typer.Argument(..., help="The activation that takes the list over."),
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    remote_id: str | None = typer.Option(
        None, "--id", metavar="ID", help="The list's id at the destination (Selligent: the "
        "segment's api name; Actito: the target list's id); it must be the list the plan "
        "names."),
    state: str | None = STATE_OPTION,
    now: str | None = NOW_OPTION,
) -> None:
    """Take over the existing list an activation's plan would create (terraform's import):
    record it, with its members where the destination lists them, as the activation's own."""
    with user_errors():
        where = locate_project(path)
        project = load_valid_project(where.manifests)
        location = use_state(state, project.root, where.file)
        result = import_list(project, activation, remote_id=remote_id, state=location,
                             clock=clock_from(now))
    for line in describe(result):
        typer.echo(line)


def describe(result: ImportResult) -> list[str]:
    """What the import recorded and what the next plan does, for people."""
    remote = result.remote
    what = f"{result.label} {remote.name!r} at {remote.destination} ({remote.target})"
    ident = f", id {remote.remote_id}" if remote.remote_id else ""
    if result.members is None:
        lines = [f"Imported {what}{ident} into activation {result.activation}: its members "
                 "cannot be read from this destination, so only its ownership is recorded.",
                 "The next apply replaces its whole list (key file) with the activation's "
                 "audience, as every apply there does; `reconciler plan` shows how many."]
    else:
        lines = [f"Imported {what}{ident} into activation {result.activation} with its "
                 f"{result.members:,} members.",
                 "The next plan shows only the difference (members to add and remove); each "
                 "member's mapped fields are updated once, as this tool never sent them."]
    if result.released is not None:
        lines.append(f"The list it synced before, {result.released.name!r} at "
                     f"{result.released.destination}, stays there and is no longer managed.")
    return lines
