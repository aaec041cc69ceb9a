"""The command line: a thin typer layer over the package (no business logic here)."""
from reconciler.cli import apply, demo, manifests, plan, sandbox  # noqa: F401,E402  (registers commands)
from reconciler.cli.app import app, main

__all__ = ["app", "main"]
