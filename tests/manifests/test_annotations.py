"""Manifest diagnostics as GitHub Actions annotations (workflow commands)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.cli.annotations import annotation, workflow_commands
from reconciler.manifests.diagnostics import Diagnostic, Position, Severity

GITHUB = {"GITHUB_ACTIONS": "true"}


def _diagnostic(file: Path, severity: Severity = Severity.ERROR, message: str = "bad",
                field: str = "spec.where") -> Diagnostic:
    return Diagnostic(severity, Position(file, 4, 7), field, message)


def test_only_inside_github_actions() -> None:
    # Scenario: on a laptop or another CI nothing is added; on a GitHub runner one per problem.
    problem = _diagnostic(Path("m.yaml"))
    assert workflow_commands([problem], {}) == []
    assert workflow_commands([problem], {"GITHUB_ACTIONS": "false"}) == []
    assert len(workflow_commands([problem, problem], GITHUB)) == 2


@pytest.mark.parametrize(("severity", "command"), [
    (Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.NOTE, "notice")])
def test_severity_chooses_the_command(severity: Severity, command: str) -> None:
    # Scenario: errors, warnings and notes become error, warning and notice annotations.
    assert annotation(_diagnostic(Path("m.yaml"), severity)).startswith(f"::{command} ")


def test_location_is_relative_to_the_checkout_and_values_are_escaped(tmp_path: Path) -> None:
    # Scenario: the file lies in the workspace; the message spans lines and holds % , and :.
    file = tmp_path / "manifests" / "segments.yaml"
    line = annotation(_diagnostic(file, message="50% off: a, b\nnext", field="spec.a,b"),
                      tmp_path)
    assert line == ("::error file=manifests/segments.yaml,line=4,col=7,"
                    "title=reconciler%3A spec.a%2Cb::50%25 off: a, b%0Anext")


def test_validate_prints_them_in_github_actions(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: `reconciler validate` on an invalid manifest in a workflow: the located
    # diagnostic as usual, and its annotation for the PR's files view.
    manifest = tmp_path / "manifests" / "segment.yaml"
    manifest.parent.mkdir()
    manifest.write_text("apiVersion: reconciler/v1\nkind: Segment\nmetadata:\n  name: s\n"
                        "spec:\n  model: nowhere\n  where: {column: a, eq: 1}\n", "utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    result = CliRunner().invoke(app, ["validate", str(manifest.parent)])
    assert result.exit_code == 1, result.output
    commands = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert commands and commands[0].startswith("::error file=manifests/segment.yaml,line="), (
        result.output)
    monkeypatch.delenv("GITHUB_ACTIONS")
    quiet = CliRunner().invoke(app, ["validate", str(manifest.parent)])
    assert "::error" not in quiet.output
