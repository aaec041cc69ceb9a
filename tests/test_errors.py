"""One error root: every error a user may see derives from ReconcilerError, caught once."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import reconciler
from reconciler.cli import app
from reconciler.cli.app import user_errors
from reconciler.destinations.errors import AuthenticationError
from reconciler.errors import ReconcilerError

# Exceptions that never leave their module (caught where they are raised).
INTERNAL = {"reconciler.destinations.selligent.chunking.RowTooLargeError"}
# Not errors: Ctrl-C carrying what an apply did; a KeyboardInterrupt, so that no
# `except Exception` swallows it (the CLI reports it, cli/interrupts.py).
INTERRUPTIONS = {"reconciler.executing.outcomes.ApplyInterrupted"}


def _exception_classes() -> dict[str, type[BaseException]]:
    found = {}
    for module in pkgutil.walk_packages(reconciler.__path__, "reconciler."):
        if module.name.startswith("reconciler.sandbox"):
            continue  # the sandboxes answer HTTP errors; they raise nothing at users
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__ == module.name):
                found[f"{module.name}.{value.__qualname__}"] = value
    return found


def test_every_error_of_the_package_has_the_one_root() -> None:
    # Scenario: a new error class derives from Exception: callers would have to re-list roots.
    classes = _exception_classes()
    assert "reconciler.destinations.errors.DestinationError" in classes
    allowed = INTERNAL | INTERRUPTIONS
    strays = sorted(name for name, cls in classes.items()
                    if not issubclass(cls, ReconcilerError) and name not in allowed)
    assert strays == []
    assert all(issubclass(classes[name], KeyboardInterrupt) for name in INTERRUPTIONS)


def test_the_cli_prints_the_error_and_its_hint_once(tmp_path: Path) -> None:
    # Scenario: a bad --now is a user error: one `Error:` line with the option, exit 1.
    result = CliRunner().invoke(app, ["status", str(tmp_path), "--now", "yesterday"])
    assert result.exit_code == 1
    assert "Error: --now 'yesterday' is not an ISO 8601 date-time" in result.output
    assert "Traceback" not in result.output


def test_a_hint_follows_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario: refused credentials: the error names the call, the hint what to check.
    with pytest.raises(typer.Exit), user_errors():
        raise AuthenticationError("key refused", destination="selligent-sandbox",
                                  call="GET /organizations", status=401)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Error: selligent-sandbox GET /organizations: key refused (HTTP 401)"
    assert err[1].startswith("Hint: check the destination's credentials")
