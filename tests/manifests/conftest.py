"""Fixtures for manifest tests: small projects written to a temporary directory."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "manifests"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A writable copy of the example project."""
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLE, target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
