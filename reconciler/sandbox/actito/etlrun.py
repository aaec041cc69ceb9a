"""The write phase of an ETL execution: CSV lines → profile creations and updates, by mode.

UPDATE_ONLY never creates a profile: a line whose key matches nobody is rejected. Pure over the
in-memory table (the caller holds the store lock and saves).
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.datafile import CsvFile, FileRefused
from reconciler.sandbox.actito.store import TECHNICAL, Table
from reconciler.sandbox.actito.values import parse_value


def column_targets(table: Table, header: list[str], definition: dict[str, Any]) -> list[str]:
    """The attribute each column writes: explicit `mappings`, else the header names themselves."""
    mapping = {m.get("column"): m.get("attribute") for m in definition.get("mappings") or []}
    targets = [mapping.get(column, column) for column in header]
    key = definition["keyAttribute"]
    if key not in targets:
        raise FileRefused(f"no column maps to the key attribute {key}")
    for target in targets:
        if table.attribute(target) is None:
            raise FileRefused(f"column for unknown attribute {target}")
        if target in TECHNICAL and target != key:
            raise FileRefused(f"technical attribute {target} cannot be imported")
    return targets


def _line_values(table: Table, targets: list[str], cells: list[str]) -> dict[str, Any]:
    values = {}
    for target, cell in zip(targets, cells, strict=True):
        attribute = table.attribute(target)
        assert attribute is not None
        try:
            values[target] = parse_value(attribute, cell)
        except ValueError as exc:
            raise ValueError(f"{target}: {exc}") from None
    return values


def _apply_line(table: Table, mode: str, key: str, values: dict[str, Any], now: str) -> str:
    """'created', 'updated' or 'unchanged'; ValueError for a rejected line."""
    if values.get(key) in (None, ""):
        raise ValueError(f"empty key {key}")
    existing = table.find(key, str(values[key]) if key == "profileId" else values[key])
    if existing is None:
        if mode == "UPDATE_ONLY":
            # [?] the reason's words; quoting the value, as import reports often do, makes a
            # client prove that it masks what it shows of them.
            raise ValueError(f"no profile with {key} '{values[key]}' (update only: nothing "
                             "created)")
        if key == "profileId":
            raise ValueError("profileId cannot be given to a new profile")
        if table.conflicts(values, None):
            raise ValueError("a unique value already belongs to another profile")
        table.create(values, now)
        return "created"
    if mode == "CREATE_ONLY":
        raise ValueError(f"a profile with this {key} already exists (create only)")
    changes = {k: v for k, v in values.items() if k != "profileId"}
    if table.conflicts(changes, existing):
        raise ValueError("a unique value already belongs to another profile")
    if not inferred.EMPTY_VALUE_CLEARS:
        changes = {k: v for k, v in changes.items() if v is not None}
    return "updated" if table.update(existing, changes, now) else "unchanged"


def apply_lines(
    table: Table, files: list[CsvFile], definition: dict[str, Any], now: str
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Run every line of every file; return the counters and the rejected lines."""
    counters = {"totalLines": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    rejected: list[dict[str, Any]] = []
    mode, key = definition["mode"], definition["keyAttribute"]
    for file in files:
        targets = column_targets(table, file.header, definition)
        for number, cells in file.lines:
            counters["totalLines"] += 1
            try:
                if len(cells) != len(targets) and not inferred.REJECT_LINE_ON_COLUMN_COUNT:
                    raise FileRefused(f"line {number} has {len(cells)} columns, not {len(targets)}")
                if len(cells) != len(targets):
                    raise ValueError(f"{len(cells)} columns where the header has {len(targets)}")
                outcome = _apply_line(table, mode, key, _line_values(table, targets, cells), now)
                counters[outcome] += 1
            except ValueError as exc:
                counters["rejected"] += 1
                rejected.append({"line": number, "reason": str(exc)})
    return counters, rejected
