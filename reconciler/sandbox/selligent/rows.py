"""Reading the array-of-arrays bodies of data/load and data deletes: columns, types, keys.

`read_batch` turns one request (query `keyFields`/`fields`, the JSON body) into typed rows and
the `invalid_records` Selligent reports; `dedupe` keeps one row per key as `deduplication`
says. Applying a batch to a list or a segment is `loading.py`'s job.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.sandbox.selligent import inferred
from reconciler.sandbox.selligent.problem import ApiProblem
from reconciler.sandbox.selligent.store import Field, Key, ListTable


@dataclass
class Batch:
    columns: list[Field]
    key_columns: list[int]
    rows: list[tuple[int, list[Any], Key]] = field(default_factory=list)  # (index, values, key)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def key(self, values: list[Any]) -> Key:
        if len(self.key_columns) == 1:  # the usual case, on a hot path
            return (inferred.key_of(values[self.key_columns[0]]),)
        return tuple(inferred.key_of(values[i]) for i in self.key_columns)

    @property
    def key_names(self) -> tuple[str, ...]:
        """The list fields of the key, as `ListTable.index` takes them."""
        return tuple(self.columns[i].name for i in self.key_columns)


def split_names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def resolve_field(table: ListTable, name: str) -> Field:
    """A list field by name, `MASTER.` prefix allowed; unknown names are a 400."""
    bare = name.split(".", 1)[1] if name.upper().startswith("MASTER.") else name
    found = table.field(bare)
    if found is None:
        raise ApiProblem.invalid(f"Unknown field '{name}' on list {table.api_name}.")
    return found


def read_batch(
    table: ListTable, key_fields: str | None, fields: str | None, body: Any, max_rows: int | None
) -> Batch:
    """Columns from `fields` (or the body's header row), typed rows, and the invalid ones."""
    keys = split_names(key_fields)
    if not keys:
        raise ApiProblem.invalid("The query parameter keyFields is required.")
    if not isinstance(body, list) or not all(isinstance(r, list) for r in body):
        raise ApiProblem.invalid("The body must be a JSON array of arrays.")
    names = split_names(fields)
    data = body
    if not names:  # no `fields`: the first row is the header
        if not body:
            raise ApiProblem.invalid("The header row is missing (no fields in the query).")
        names, data = [str(n) for n in body[0]], body[1:]
    if max_rows is not None and len(data) > max_rows:
        raise ApiProblem(
            inferred.TOO_MANY_ROWS_STATUS,
            inferred.VALIDATION_CODE,
            f"Too many records in one call: {len(data)} (the maximum is {max_rows}).",
        )
    columns = [resolve_field(table, n) for n in names]
    if len({c.name for c in columns}) != len(columns):
        raise ApiProblem.invalid("A field appears twice in the fields.")
    key_columns = []
    for key in keys:
        wanted = resolve_field(table, key)
        if wanted not in columns:
            raise ApiProblem.invalid(f"The key field '{key}' is not among the fields.")
        key_columns.append(columns.index(wanted))
    batch = Batch(columns, key_columns, total=len(data))
    converters = [_converter(c) for c in columns]
    for index, row in enumerate(data, start=inferred.RECORD_INDEX_BASE):
        try:  # the fast path; a row with any problem is read again cell by cell to report it
            if len(row) != len(converters):
                raise _Refused
            values = [convert_cell(raw) for convert_cell, raw in zip(converters, row, strict=True)]
            row_key = batch.key(values)
            if not any(row_key):
                raise _Refused
        except _Refused:
            _read_row(batch, index, row)
            continue
        batch.rows.append((index, values, row_key))
    return batch


class _Refused(Exception):
    """A cell or row the fast path does not take as it is."""


def _converter(column: Field) -> Callable[[Any], Any]:
    """`convert` for one column as a function of the raw value, raising `_Refused` on a
    problem, with a shortcut for text that needs no conversion (most cells of most loads)."""
    def general(raw: Any) -> Any:
        value, problem = convert(column, raw)
        if problem is not None:
            raise _Refused
        return value

    if column.data_type in _CONVERTED_TYPES:
        return general
    limit = column.length

    def text(raw: Any) -> Any:
        if type(raw) is str and raw and (not limit or len(raw) <= limit):
            return raw
        return general(raw)

    return text


def _read_row(batch: Batch, index: int, row: list[Any]) -> None:
    if len(row) != len(batch.columns):
        batch.invalid.append(_invalid(index, None, "Record contains incorrect number of fields",
                                      "InvalidFieldCount"))
        return
    values = []
    for column, raw in zip(batch.columns, row, strict=True):
        value, problem = convert(column, raw)
        if problem is not None:
            batch.invalid.append(_invalid(index, column.name, *problem))
            return
        values.append(value)
    key = batch.key(values)
    if not any(key):
        batch.invalid.append(_invalid(index, batch.columns[batch.key_columns[0]].name,
                                      "The key field is empty", inferred.EMPTY_KEY_CODE))
        return
    batch.rows.append((index, values, key))


def _invalid(index: int, field_name: str | None, message: str, code: str) -> dict[str, Any]:
    record: dict[str, Any] = {"record_index": index, "message": message, "validation_code": code}
    if field_name is not None or not inferred.OMIT_NULLS:
        record["field_name"] = field_name
    return record


_CONVERTED_TYPES = ("Numeric", "Long", "Float", "Boolean", "Date", "DateTime")  # not text


def convert(column: Field, raw: Any) -> tuple[Any, tuple[str, str] | None]:
    """A raw JSON value as the column's type, or a (message, validation code) problem."""
    if raw is None or (raw == "" and inferred.EMPTY_IS_NULL):
        return None, None
    kind = column.data_type
    try:
        if kind in ("Numeric", "Long"):
            return _to_int(raw), None
        if kind == "Float":
            if isinstance(raw, bool):
                raise ValueError
            return float(raw), None
        if kind == "Boolean":
            return _to_bool(raw), None
        if kind in ("Date", "DateTime"):
            return _check_date(str(raw)), None
    except (TypeError, ValueError):
        return None, (f"Value is not a valid {kind}", "InvalidType")
    text = raw if isinstance(raw, str) else _json_text(raw)
    if column.length and len(text) > column.length:
        message = f"Length of string ({len(text)}) exceeds maximum field length ({column.length})"
        return None, (message, "MaxStringLengthExceeded")
    return text, None


def _check_date(text: str) -> str:
    iso = re.sub(r"(\.\d{6})\d+", r"\1", text.strip().replace("Z", "+00:00"))
    datetime.fromisoformat(iso)
    return text


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError
        return int(raw)
    return int(str(raw).strip())


def _to_bool(raw: Any) -> bool:
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError


def _json_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def dedupe(batch: Batch, deduplication: str | None) -> tuple[dict[Key, list[Any]], int]:
    """One row per key (ImportLastMatch: the last wins; ImportFirstMatch: the first), in the
    order keys first appear, and the number of rows dropped."""
    mode = deduplication or "ImportLastMatch"
    if mode not in ("ImportLastMatch", "ImportFirstMatch"):
        raise ApiProblem.invalid(f"Unknown deduplication '{mode}'.")
    kept: dict[Key, list[Any]] = {}
    last = mode == "ImportLastMatch"
    for _, values, key in batch.rows:
        if last or key not in kept:
            kept[key] = values
    return kept, len(batch.rows) - len(kept)
