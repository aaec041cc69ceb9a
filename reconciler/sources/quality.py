"""Materializing an audience into DuckDB, with bad data counted, sampled and left out.

Owns the checks every audience passes before it may be synced, run as SQL in the caller's
DuckDB connection (the same place the planner computes diffs), whatever the source:
- a NULL or blank member key, or a key found on several rows (all its rows are left out:
  which one to sync would be a guess);
- a mapped value that does not fit its destination field's declared type (its row is left
  out, so a contact is never synced with half its fields).
Each problem is counted, and a few samples are kept, masked through `reconciler.masking`:
raw personal data never leaves this module. The result table holds the valid rows only:
`member_key`, one column per destination field (converted to its type) and
`attributes_hash`. Python never holds the audience: rows stay in DuckDB.
"""
from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from reconciler.manifests.models import FieldType
from reconciler.masking import mask_value
from reconciler.sources.audience import (
    HASH_COLUMN,
    KEY_COLUMN,
    AudienceField,
    AudienceSpec,
    build_audience_query,
    discover_columns,
)
from reconciler.sources.base import Source
from reconciler.sources.columns import Column
from reconciler.sources.dialects import DUCKDB
from reconciler.sources.errors import NoValidRowsError

HASH_LENGTH = 16
"""Hex digits of md5 kept per row: 64 bits, plenty to tell one row's old values from new."""

_DUCKDB_TYPES = {
    FieldType.STRING: "VARCHAR",
    FieldType.INTEGER: "BIGINT",
    FieldType.DECIMAL: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DATE: "DATE",
    FieldType.TIMESTAMP: "TIMESTAMP",
}


class ProblemKind(enum.StrEnum):
    NULL_KEY = "null key"
    DUPLICATE_KEY = "duplicate key"
    INVALID_VALUE = "invalid value"


@dataclass(frozen=True)
class DataProblem:
    kind: ProblemKind
    rows: int
    samples: tuple[str, ...] = ()
    """Masked examples, e.g. `C*****1` or `C*****1: a***c`."""
    field: str | None = None
    """The destination field, for INVALID_VALUE."""

    def describe(self) -> str:
        what = f"an invalid {self.field} value" if self.field else f"a {self.kind}"
        examples = f" (e.g. {', '.join(self.samples)})" if self.samples else ""
        return f"{self.rows} rows with {what}{examples}"


@dataclass(frozen=True)
class AudienceReport:
    activation: str
    table: str
    rows_read: int
    valid_rows: int
    problems: tuple[DataProblem, ...]

    @property
    def rejected_rows(self) -> int:
        return self.rows_read - self.valid_rows


def converted(field: AudienceField, column: str) -> str:
    """The DuckDB expression of a raw value converted to its field's type (NULL if unfit)."""
    return f"TRY_CAST({column} AS {_DUCKDB_TYPES[field.type or FieldType.STRING]})"


def fits(field: AudienceField, column: str) -> str:
    """A DuckDB condition: the raw value is NULL or converts to the field's type exactly."""
    check = f"{converted(field, column)} IS NOT NULL"
    if field.type == FieldType.INTEGER:  # TRY_CAST rounds 1.5 to 2: refuse fractions
        check += f" AND TRY_CAST({column} AS DECIMAL(38,10)) = TRY_CAST({column} AS BIGINT)"
    elif field.type == FieldType.DECIMAL:
        check += f" AND isfinite(TRY_CAST({column} AS DOUBLE))"
    return f"({column} IS NULL OR ({check}))"


def attributes_hash(fields: Sequence[AudienceField]) -> tuple[str, list[str]]:
    """The DuckDB expression hashing a row's converted field values, and its parameters.

    The destination names are part of the hash, so remapping a field changes every hash.
    """
    values = ", ".join(f"CAST({converted(f, DUCKDB.quote(f.destination))} AS VARCHAR)"
                       for f in fields)
    names = json.dumps([f.destination for f in fields])
    sql = f"left(md5(? || CAST(to_json(list_value({values})) AS VARCHAR)), {HASH_LENGTH})"
    return sql, [names]


def materialize_audience(
    source: Source,
    spec: AudienceSpec,
    into: duckdb.DuckDBPyConnection,
    table: str,
    *,
    now: dt.datetime,
    columns: Sequence[Column] | None = None,
    samples: int = 3,
) -> AudienceReport:
    """Read the audience into temp table `table` of `into`, leaving bad rows out.

    Raises `NoValidRowsError` when the audience had rows and none of them is valid.
    """
    if columns is None:
        columns = discover_columns(source, spec.model)
    query = build_audience_query(spec, source.dialect, now=now, columns=columns)
    raw, dups = f"{table}__raw", f"{table}__dups"
    source.materialize(query, into, raw)
    q = DUCKDB.quote
    key = q(KEY_COLUMN)
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(dups)} AS SELECT {key} FROM {q(raw)} "
        f"WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1"
    )
    checks = _checks(spec, raw, dups)
    report = _report(spec, into, table, raw, checks, samples)
    valid = " AND ".join(f"NOT ({condition})" for _, _, condition in checks)
    hash_sql, hash_params = attributes_hash(spec.fields)
    projection = ", ".join(
        [key] + [f"{converted(f, q(f.destination))} AS {q(f.destination)}" for f in spec.fields]
    )
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(table)} AS SELECT {projection}, "
        f"{hash_sql} AS {q(HASH_COLUMN)} FROM {q(raw)} WHERE {valid}",
        hash_params,
    )
    into.execute(f"DROP TABLE {q(raw)}; DROP TABLE {q(dups)}")
    if report.rows_read and not report.valid_rows:
        details = "; ".join(p.describe() for p in report.problems)
        raise NoValidRowsError(
            f"activation {spec.activation!r}: none of the {report.rows_read} rows of its "
            f"audience can be synced: {details}"
        )
    return report


_Check = tuple[ProblemKind, AudienceField | None, str]


def _checks(spec: AudienceSpec, raw: str, dups: str) -> list[_Check]:
    """(kind, field, SQL condition true for a bad row) for every check of this audience."""
    key = DUCKDB.quote(KEY_COLUMN)
    checks: list[_Check] = [
        (ProblemKind.NULL_KEY, None, f"{key} IS NULL OR trim({key}) = ''"),
        (ProblemKind.DUPLICATE_KEY, None,
         f"{key} IN (SELECT {key} FROM {DUCKDB.quote(dups)})"),
    ]
    for f in spec.fields:
        if f.type not in (None, FieldType.STRING):
            checks.append((ProblemKind.INVALID_VALUE, f,
                           f"NOT {fits(f, DUCKDB.quote(f.destination))}"))
    return checks


def _report(
    spec: AudienceSpec,
    into: duckdb.DuckDBPyConnection,
    table: str,
    raw: str,
    checks: list[_Check],
    samples: int,
) -> AudienceReport:
    counts = ", ".join(f"count(*) FILTER (WHERE {c})" for _, _, c in checks)
    valid = " AND ".join(f"NOT ({c})" for _, _, c in checks)
    row = into.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {valid}), {counts} "
        f"FROM {DUCKDB.quote(raw)}"
    ).fetchone()
    assert row is not None
    total, valid_rows, *bad = row
    problems = tuple(
        DataProblem(kind, rows, _samples(into, raw, kind, f, condition, samples),
                    f.destination if f else None)
        for (kind, f, condition), rows in zip(checks, bad, strict=True)
        if rows
    )
    return AudienceReport(spec.activation, table, total, valid_rows, problems)


def _samples(
    into: duckdb.DuckDBPyConnection,
    raw: str,
    kind: ProblemKind,
    field: AudienceField | None,
    condition: str,
    limit: int,
) -> tuple[str, ...]:
    if kind == ProblemKind.NULL_KEY or limit <= 0:
        return ()
    value = DUCKDB.quote(field.destination) if field else "NULL"
    rows = into.execute(
        f"SELECT DISTINCT {DUCKDB.quote(KEY_COLUMN)}, CAST({value} AS VARCHAR) "
        f"FROM {DUCKDB.quote(raw)} WHERE {condition} ORDER BY 1 LIMIT {int(limit)}"
    ).fetchall()
    if field is None:
        return tuple(mask_value(key) for key, _ in rows)
    return tuple(f"{mask_value(key)}: {mask_value(raw_value)}" for key, raw_value in rows)
