"""GitHub Actions annotations for manifest diagnostics: `::error file=…,line=…,col=…::message`.

Owns the workflow-command format (GitHub's "Workflow commands for GitHub Actions": data
escapes `%`, CR and LF; property values also escape `:` and `,`) and when to emit it: only
when the GitHub runner says it runs the step (`GITHUB_ACTIONS=true`). Paths are relative to
the checkout (`GITHUB_WORKSPACE`), as GitHub places annotations by repository path. Must not
print anything itself: the commands decide where the lines go.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from reconciler.manifests.diagnostics import Diagnostic, Severity, display_path

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def in_github_actions(env: Mapping[str, str] = os.environ) -> bool:
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def workflow_commands(diagnostics: Iterable[Diagnostic],
                env: Mapping[str, str] = os.environ) -> list[str]:
    """One workflow command per diagnostic when running in GitHub Actions, else none."""
    if not in_github_actions(env):
        return []
    workspace = env.get("GITHUB_WORKSPACE")
    return [annotation(d, Path(workspace) if workspace else None) for d in diagnostics]


def annotation(diagnostic: Diagnostic, workspace: Path | None = None) -> str:
    position = diagnostic.position
    properties = ",".join(f"{name}={_escape_property(value)}" for name, value in (
        ("file", _repository_path(position.file, workspace)), ("line", str(position.line)),
        ("col", str(position.column)), ("title", f"reconciler: {diagnostic.field}"
                                                  if diagnostic.field else "reconciler")))
    return f"::{_COMMANDS[diagnostic.severity]} {properties}::{_escape_data(diagnostic.message)}"


def _repository_path(file: Path, workspace: Path | None) -> str:
    if workspace is not None:
        try:
            return file.resolve().relative_to(workspace.resolve()).as_posix()
        except ValueError:
            pass
    return display_path(file)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
