"""The root typer app; each command group lives in its own module of this package."""
from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito.",
)


@app.callback()
def root() -> None:
    """Audience Reconciler: declarative sync of warehouse audiences to Selligent and Actito."""


def main() -> None:
    app()


@app.command()
def version() -> None:
    """Print the version."""
    from reconciler import __version__

    typer.echo(__version__)
