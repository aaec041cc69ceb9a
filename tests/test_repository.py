"""The repository's own files: nothing it tracks is ignored by its .gitignore."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                            check=True, timeout=30)
    return result.stdout.splitlines()


def test_no_tracked_file_is_ignored() -> None:
    # Scenario: a .gitignore line (`.env`, `*.yaml`, `manifests/`) that matches the example
    # manifests would make a fresh clone's edits to them invisible to `git status`.
    assert _git("ls-files", "--cached", "--ignored", "--exclude-standard") == []
    tracked = _git("ls-files", "manifests")
    assert {"manifests/.env", "manifests/destinations.yaml",
            "manifests/activations/vip-selligent.yaml"} <= set(tracked)


def test_local_files_stay_out_of_git() -> None:
    # Scenario: the state, the sandboxes' data, a local .env and a venv are never committed.
    ignored = _git("check-ignore", "--no-index", ".reconciler/state.duckdb", ".env",
                   "nested/.env", ".venv/bin/python", "dist/x.whl")
    assert len(ignored) == 5
