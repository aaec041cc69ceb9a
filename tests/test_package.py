"""The package imports and the console script answers."""
from typer.testing import CliRunner

from reconciler.cli import app


def test_cli_help_lists_commands() -> None:
    # Scenario: a user runs `reconciler --help` on a fresh install.
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Audience Reconciler" in result.output


def test_license_and_changelog_ship_with_the_source() -> None:
    # Scenario: pyproject says Apache-2.0; the repository holds that license's text and a
    # changelog with a section for the current version.
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    license_text = (root / "LICENSE").read_text("utf-8")
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert f"({project['version']})" in (root / "CHANGELOG.md").read_text("utf-8")
