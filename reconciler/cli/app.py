"""The root typer app; each command group lives in its own module of this package."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from reconciler.errors import ReconcilerError
from reconciler.operations.plans import state_location
from reconciler.state.store import describe_location

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito.",
)
# `--now` (or $RECONCILER_NOW) pins the program's clock for tests and incident replays;
# hidden from the short help.
NOW_ENV = "RECONCILER_NOW"
NOW_OPTION = typer.Option(None, "--now", hidden=True, envvar=NOW_ENV,
                          help="Pretend it is this time (ISO 8601; naive times are UTC).")
LOCK_TIMEOUT_OPTION = typer.Option(
    30.0, "--lock-timeout", min=0, metavar="SECONDS",
    help="How long to wait for an activation's lock held by another apply before that "
    "activation fails (0: do not wait).")
_options = {"debug": False}


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
) -> None:
    """Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito."""
    _options["debug"] = debug


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can act on into `Error: …` and exit 1 (tracebacks with --debug)."""
    try:
        yield
    except ReconcilerError as exc:
        if _options["debug"]:
            raise
        typer.echo(f"Error: {exc}", err=True)
        if exc.hint:
            typer.echo(f"Hint: {exc.hint}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def version() -> None:
    """Print the version."""
    from reconciler import __version__

    typer.echo(__version__)


def main() -> None:
    app()
    sys.exit(0)


def use_state(option: str | None, project_root: Path | None) -> str | None:
    """Resolve the state store a command uses (see `state_location`) and say which, on
    stderr, credentials masked: planning against the wrong state shows everything as new."""
    location = state_location(option, project_root)
    typer.echo(f"State: {describe_location(location)}", err=True)
    return location
