"""Diagnostics: problems found in manifests, each with a source position.

Owns the Diagnostic record and its renderings. Checks never raise on the first problem;
they append diagnostics so one run reports every problem (terraform's way).
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # nothing wrong: what the tool will do that a reader might not expect


@dataclass(frozen=True, order=True)
class Position:
    """A place in a manifest file; line and column are 1-based, as editors show them."""

    file: Path
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{display_path(self.file)}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    position: Position
    field: str
    message: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{self.position}: {self.severity.value}: {field}{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "file": display_path(self.position.file),
            "line": self.position.line,
            "column": self.position.column,
            "field": self.field,
            "message": self.message,
        }


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is below it, else as given."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if relative.startswith("..") else relative


def format_field_path(parts: tuple[str | int, ...]) -> str:
    """('spec', 'fields', 0, 'source') -> 'spec.fields[0].source'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
