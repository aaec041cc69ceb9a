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
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.errors import ReconcilerError
from reconciler.manifests.diagnostics import Diagnostic, Position, Severity
from reconciler.manifests.projectfile import PROJECT_FILE_NAME

MANIFEST_SUFFIXES = (".yaml", ".yml")
FieldPath = tuple[str | int, ...]
# Bounds a manifest never reaches and a hostile or broken file would (a YAML alias bomb expands
# exponentially, a deep nesting exhausts the parser's recursion): each is a located error.
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_VALUES = 100_000  # values of one document once aliases are expanded
# Python cannot print an integer past 4,300 digits (ValueError in every message naming it):
# no manifest field needs more than a few, so a longer one is refused where it stands.
MAX_INTEGER_DIGITS = 1_000
_MAX_INTEGER_BITS = int(MAX_INTEGER_DIGITS * 3.33)  # log2(10) bits a digit


class _TooBig(ReconcilerError):
    """A document past a bound, at the YAML node where it was found (or at `where`)."""

    def __init__(self, message: str, node: Any = None, where: Position | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.where = where


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


class _LocatingConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor, whose value errors carry the value's position.

    Building a value can fail outside ruamel's own error tree (`2026-02-30` and `!!int abc`
    raise ValueError, `!!bool x` a KeyError, `!!set x` an AttributeError, an integer of 5,000
    digits Python's digit limit): each becomes a `ConstructorError` at the value, so the file
    gets a located diagnostic instead of a traceback."""

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except (YAMLError, RecursionError):
            raise
        except Exception as exc:  # whatever ruamel lets out, the value is what is wrong
            raise ConstructorError(None, None, f"cannot read {node.tag} value: {exc}",
                                   node.start_mark) from exc


def _read_file(file: Path, diagnostics: list[Diagnostic]) -> list[RawDocument]:
    yaml = YAML(typ="rt")
    yaml.Constructor = _LocatingConstructor
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise _TooBig(f"the file is larger than {MAX_FILE_BYTES:,} bytes: a manifest is a "
                          "few kilobytes (data belongs in a source)")
        text = file.read_text(encoding="utf-8")
        depth, line = _flow_depth(text)
        if depth > MAX_DEPTH:
            raise _TooBig(f"brackets nested {depth} deep from line {line} (at most {MAX_DEPTH})")
        loaded = list(yaml.load_all(text))
    except _TooBig as exc:
        diagnostics.append(Diagnostic(Severity.ERROR, Position(file), "", str(exc)))
        return []
    except RecursionError:
        diagnostics.append(Diagnostic(Severity.ERROR, Position(file), "",
                                      f"values nested too deeply (at most {MAX_DEPTH} levels)"))
        return []
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
        try:
            _index_positions(node, (), index, _Budget())
            plain = _to_plain(node, _Budget())
        except _TooBig as exc:
            where = getattr(exc.node, "lc", None)
            position = exc.where or (Position(file, where.line + 1, where.col + 1)
                                     if where is not None else Position(file))
            diagnostics.append(Diagnostic(Severity.ERROR, position, "", str(exc)))
            continue
        documents.append(RawDocument(file, number, plain, index))
    return documents


class _Budget:
    """Counts the values a walk visits (aliases counted each time they are used) and its
    depth, so an alias bomb or a deep document stops with an error instead of hanging."""

    def __init__(self) -> None:
        self.values = 0

    def visit(self, node: Any, depth: int) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooBig(f"the document expands to more than {MAX_VALUES:,} values (YAML "
                          "aliases used over and over?)", node)
        if depth > MAX_DEPTH:
            raise _TooBig(f"values nested more than {MAX_DEPTH} levels deep", node)


def _flow_depth(text: str) -> tuple[int, int]:
    """The deepest nesting of flow brackets ([ and {) outside quotes and comments, and the
    line it starts on; a cheap look before the parser, which recurses on each level."""
    depth = deepest = 0
    line = deepest_line = 1
    quote = ""
    comment = False
    for char in text:
        if char == "\n":  # quotes rarely span lines: an apostrophe in a plain value ends here
            line += 1
            comment, quote = False, ""
            continue
        if comment:
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, deepest_line = depth, line
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest, deepest_line


def _index_positions(node: Any, path: FieldPath, index: PositionIndex, budget: _Budget) -> None:
    budget.visit(node, len(path))
    if isinstance(node, CommentedMap):
        index.values.setdefault(path, (node.lc.line, node.lc.col))
        for key, value in node.items():
            _check_integer(key, index, path)
            child = (*path, str(key))
            index.keys[child] = node.lc.key(key)
            index.values[child] = node.lc.value(key)
            _index_positions(value, child, index, budget)
    elif isinstance(node, CommentedSeq):
        index.values.setdefault(path, (node.lc.line, node.lc.col))
        for number, value in enumerate(node):
            child = (*path, number)
            index.values[child] = node.lc.item(number)
            _index_positions(value, child, index, budget)
    else:
        _check_integer(node, index, path)


def _check_integer(value: Any, index: PositionIndex, path: FieldPath) -> None:
    if isinstance(value, int) and value.bit_length() > _MAX_INTEGER_BITS:
        raise _TooBig(f"an integer of more than {MAX_INTEGER_DIGITS:,} digits", value,
                      index.locate(path))


def _to_plain(node: Any, budget: _Budget, depth: int = 0) -> Any:
    """ruamel's round-trip types → dict, list, str, int, float, bool, date, datetime, None."""
    budget.visit(node, depth)
    if isinstance(node, dict):
        return {str(k): _to_plain(v, budget, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_to_plain(v, budget, depth + 1) for v in node]
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
