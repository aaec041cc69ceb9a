"""Reading manifest files: YAML documents as plain data plus the position of every value.

Owns file discovery (a file or a directory tree), YAML parsing with ruamel.yaml (several
documents per file), and the `PositionIndex` that maps a field path to `file:line:column`.
It must not validate meaning: that belongs to `models.py` (shape) and `checks.py` (references).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.manifests.diagnostics import Diagnostic, Position, Severity
from reconciler.manifests.projectfile import PROJECT_FILE_NAME

MANIFEST_SUFFIXES = (".yaml", ".yml")
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class PositionIndex:
    """Where each value (and each mapping key) of one YAML document stands in its file."""

    file: Path
    values: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: FieldPath, *, key: bool = False) -> Position:
        """The position of `path`, or of its nearest ancestor that exists in the document.

        With `key=True` the mapping key is pointed at (e.g. for an unknown field), else the value.
        """
        table = self.keys if key else self.values
        if path in table:
            return self._position(table[path])
        for end in range(len(path) - 1, -1, -1):
            prefix = path[:end]
            if prefix in self.values:
                return self._position(self.values[prefix])
        return Position(self.file, 1, 1)

    def _position(self, line_col: tuple[int, int]) -> Position:
        return Position(self.file, line_col[0] + 1, line_col[1] + 1)


@dataclass(frozen=True)
class RawDocument:
    """One YAML document of a manifest file, before validation."""

    file: Path
    index: int  # the document's rank in its file, from 0
    data: Any
    positions: PositionIndex


def discover_files(path: Path) -> list[Path]:
    """The manifest files under `path` (itself if a file), sorted; hidden folders and the
    project file (reconciler.yaml, not a manifest) skipped."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.suffix in MANIFEST_SUFFIXES
        and p.is_file()
        and p.name != PROJECT_FILE_NAME
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def read_documents(path: Path, diagnostics: list[Diagnostic]) -> list[RawDocument]:
    """Parse every manifest file under `path`; YAML errors become diagnostics, not exceptions."""
    if not path.exists():
        diagnostics.append(
            Diagnostic(Severity.ERROR, Position(path), "", "no such file or directory")
        )
        return []
    documents: list[RawDocument] = []
    for file in discover_files(path):
        documents.extend(_read_file(file, diagnostics))
    return documents


def _read_file(file: Path, diagnostics: list[Diagnostic]) -> list[RawDocument]:
    yaml = YAML(typ="rt")
    try:
        text = file.read_text(encoding="utf-8")
        loaded = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        diagnostics.append(Diagnostic(Severity.ERROR, position, "", f"invalid YAML: {message}"))
        return []
    except (YAMLError, UnicodeDecodeError, OSError) as exc:
        diagnostics.append(
            Diagnostic(Severity.ERROR, Position(file), "", f"cannot read manifest: {exc}")
        )
        return []
    documents = []
    for number, node in enumerate(loaded):
        if node is None:  # an empty document, e.g. a trailing '---'
            continue
        index = PositionIndex(file)
        _index_positions(node, (), index)
        documents.append(RawDocument(file, number, _to_plain(node), index))
    return documents


def _index_positions(node: Any, path: FieldPath, index: PositionIndex) -> None:
    if isinstance(node, CommentedMap):
        index.values.setdefault(path, (node.lc.line, node.lc.col))
        for key, value in node.items():
            child = (*path, str(key))
            index.keys[child] = node.lc.key(key)
            index.values[child] = node.lc.value(key)
            _index_positions(value, child, index)
    elif isinstance(node, CommentedSeq):
        index.values.setdefault(path, (node.lc.line, node.lc.col))
        for number, value in enumerate(node):
            child = (*path, number)
            index.values[child] = node.lc.item(number)
            _index_positions(value, child, index)


def _to_plain(node: Any) -> Any:
    """ruamel's round-trip types → dict, list, str, int, float, bool, date, datetime, None."""
    if isinstance(node, dict):
        return {str(k): _to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_to_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.datetime):
        return dt.datetime(*node.timetuple()[:6], node.microsecond, node.tzinfo)
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    if isinstance(node, str):
        return str(node)
    return node


def walk_path(data: Any, loc: tuple[str | int, ...]) -> Iterator[str | int]:
    """Keep the parts of a pydantic error location that exist in the data.

    Pydantic adds union tags (e.g. 'selligent', 'predicate') to locations; dropping the parts
    that are not keys or indexes of the data gives the path a user sees in the YAML.
    """
    node = data
    for part in loc:
        in_map = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_list:
            node = node[part]
            yield part
