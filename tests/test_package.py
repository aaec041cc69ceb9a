"""The package imports and the console script answers."""
from typer.testing import CliRunner

from reconciler.cli import app


def test_cli_help_lists_commands() -> None:
    # Scenario: a user runs `reconciler --help` on a fresh install.
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Audience Reconciler" in result.output
