"""The root typer app; each command group lives in its own module of this package."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer

from reconciler.cli.conventions import Typer
from reconciler.errors import ReconcilerError
from reconciler.manifests.project import Project
from reconciler.manifests.projectfile import DEFAULT_MANIFESTS, ProjectFile, find_project_file
from reconciler.manifests.selection import parse_labels, select_activations
from reconciler.manifests.values import parse_duration
from reconciler.operations.plans import STATE_ENV, state_location
from reconciler.state.store import describe_location

app = Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito.",
)
# `--now` (or $RECONCILER_NOW) pins the program's clock for tests and incident replays;
# hidden from the short help.
NOW_ENV = "RECONCILER_NOW"
NOW_OPTION = typer.Option(None, "--now", hidden=True, envvar=NOW_ENV,
                          help="Pretend it is this time (ISO 8601; naive times are UTC).")
# One --state option for every command that reads or writes the state store.
STATE_OPTION = typer.Option(
    None, "--state", metavar="URL",
    help=f"State store: a DuckDB file or a postgresql:// URL (default ${STATE_ENV}, else the "
    "project file's `state`, else .reconciler/state.duckdb beside the manifests directory).")
def lock_timeout_seconds(text: str) -> float:
    """`--lock-timeout`: seconds (`30`, `0.5`) or a duration (`90s`, `5m`, `1h`)."""
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_duration(text.strip()).total_seconds()
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if seconds < 0:
        raise typer.BadParameter("a lock timeout cannot be negative")
    return seconds


LOCK_TIMEOUT_OPTION = typer.Option(
    "30", "--lock-timeout", metavar="DURATION", parser=lock_timeout_seconds,
    help="How long to wait for an activation's lock held by another apply before that "
    "activation fails: seconds or a duration such as 5m (0: do not wait).")
# -l/--label on every command that works on some activations: all the labels given at once.
LABEL_OPTION = typer.Option(
    [], "--label", "-l", metavar="KEY=VALUE",
    help="Only the activations labelled so in their metadata (repeatable: all of them).")
_options = {"debug": False}


def chosen_activations(project: Project, names: list[str], labels: list[str]) -> list[str]:
    """The activations `-a` names and `-l` labels (every condition holding; none: all)."""
    return select_activations(project, names, parse_labels(labels))


def _print_version(asked: bool) -> None:
    if asked:
        from reconciler import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito."""
    _options["debug"] = debug


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can act on into `Error: …` and exit 1 (tracebacks with --debug);
    Ctrl-C outside an apply's writes (which report themselves) into a line and exit 130."""
    try:
        yield
    except ReconcilerError as exc:
        if _options["debug"]:
            raise
        typer.echo(f"Error: {exc}", err=True)
        if exc.hint:
            typer.echo(f"Hint: {exc.hint}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt as exc:  # an apply's own report comes first (cli/interrupts.py)
        if _options["debug"]:
            raise
        typer.echo("\nInterrupted (Ctrl-C).", err=True)
        raise typer.Exit(130) from exc


@app.command()
def version() -> None:
    """Print the version."""
    from reconciler import __version__

    typer.echo(__version__)


def main() -> None:
    app()
    sys.exit(0)


# The manifests argument of every command: omitted, the project file (or ./manifests) says.
MANIFESTS_HELP = ("A manifest file or a directory of them (default: the `manifests` of the "
                  "project file, reconciler.yaml or [tool.reconciler], else ./manifests).")


@dataclass(frozen=True)
class ProjectLocation:
    """The manifests a command works on and the project file governing them (if any)."""

    manifests: Path
    file: ProjectFile | None


def locate_project(path: Path | None) -> ProjectLocation:
    """`path` when given, else the project file's manifests (searched from here upward),
    else ./manifests; with the project file found from the manifests upward."""
    if path is not None:
        return ProjectLocation(path, find_project_file(path))
    found = find_project_file(Path.cwd())
    if found is None:
        return ProjectLocation(Path(DEFAULT_MANIFESTS), None)
    return ProjectLocation(_relative_if_below(found.manifests_path()), found)


def _relative_if_below(path: Path) -> Path:
    """Messages name `manifests`, not /home/me/repo/manifests, when run from the repo."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else Path(relative)


def use_state(option: str | None, project_root: Path | None,
              project_file: ProjectFile | None = None) -> str | None:
    """Resolve the state store a command uses (see `state_location`) and say which, on
    stderr, credentials masked: planning against the wrong state shows everything as new."""
    location = state_location(option, project_root, project_file)
    typer.echo(f"State: {describe_location(location)}", err=True)
    return location
