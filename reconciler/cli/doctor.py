"""`reconciler doctor`: check, without changing anything, that each destination's credentials,
permissions and network path are ready for plan and apply."""
from __future__ import annotations

from pathlib import Path

import typer

from reconciler.cli.app import MANIFESTS_HELP, NOW_OPTION, app, locate_project, user_errors
from reconciler.cli.plan import load_valid_project
from reconciler.clock import clock_from
from reconciler.operations.doctor import check_destinations

MARKS = {True: "ok  ", False: "FAIL", None: "skip"}


@app.command()
def doctor(
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    destination: list[str] = typer.Option([], "--destination", "-d", metavar="NAME",
                                          help="Check only this destination (repeatable)."),
    now: str | None = NOW_OPTION,
) -> None:
    """Check each destination read-only: credentials, every permission plan and apply need,
    the key's expiry and whether this machine may call it. Exit 1 when any check fails."""
    with user_errors():
        project = load_valid_project(locate_project(path).manifests)
        results = check_destinations(project, destination, clock_from(now))
    failed = 0
    for name, findings in results.items():
        typer.echo(f"{name}:")
        for finding in findings:
            typer.echo(f"  {MARKS[finding.ok]} {finding.check}: {finding.message}")
            failed += finding.ok is False
    typer.echo(f"{failed} check(s) failed." if failed else "Every destination is ready.")
    if failed:
        raise typer.Exit(1)
