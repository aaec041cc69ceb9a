"""The command line: a thin typer layer over the package (no business logic here)."""
# Importing each command module registers its commands on the app.
from reconciler.cli import (  # noqa: F401
    apply,
    demo,
    doctor,
    importing,
    init,
    manifests,
    plan,
    run,
    sandbox,
    state,
    status,
)
from reconciler.cli.app import app, main

__all__ = ["app", "main"]
