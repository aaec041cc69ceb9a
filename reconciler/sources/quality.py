"""Materializing an audience into DuckDB, with bad data counted, sampled and left out.

Owns the checks every audience passes before it may be synced, run as SQL in the caller's
DuckDB connection (the same place the planner computes diffs), whatever the source:
- a NULL or blank member key, or a key found on several rows (all its rows are left out:
  which one to sync would be a guess);
- a mapped value that does not fit its destination field's declared type (its row is left
  out, so a contact is never synced with half its fields).
Each problem is counted, and a few samples are kept, masked through `reconciler.masking`:
raw personal data never leaves this module. Python never holds the audience: the rows go
from the source into DuckDB in one pass (converted and hashed on the way in), then two
aggregate queries count the problems.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import duckdb

from reconciler.manifests.models import FieldType
from reconciler.sources.audience import (
    HASH_COLUMN,
    KEY_COLUMN,
    AudienceField,
    AudienceSpec,
    build_audience_query,
    discover_columns,
)
from reconciler.sources.base import Source
from reconciler.sources.columns import Column, is_zoned
from reconciler.sources.dialects import DUCKDB, Dialect
from reconciler.sources.errors import NoValidRowsError
from reconciler.sources.problems import AudienceReport, Check, ProblemKind, count_problems

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


def raw_value(field: AudienceField, zoned: AbstractSet[str] = frozenset()) -> str:
    """A staged field's raw value; instants are read in UTC so no result (nor hash) depends
    on the TimeZone setting of the machine that plans."""
    column = DUCKDB.quote(field.destination)
    return f"timezone('UTC', {column})" if field.destination in zoned else column


def attributes_hash(fields: Sequence[AudienceField], zoned: AbstractSet[str] = frozenset()) -> str:
    """The DuckDB expression hashing a row's converted field values (stable across versions).

    md5 of the values as text, unit-separated (NULL spelled as the record separator), after
    a digest of the destination names, so remapping a field changes every hash too. Without
    fields there is nothing to compare: the hash is NULL.
    """
    if not fields:
        return "CAST(NULL AS VARCHAR)"
    mapping = json.dumps([f.destination for f in fields]).encode()
    names = hashlib.md5(mapping, usedforsecurity=False).hexdigest()[:8]
    values = "".join(
        f", coalesce(CAST({converted(f, raw_value(f, zoned))} AS VARCHAR), chr(30))"
        for f in fields
    )
    return f"left(md5(concat_ws(chr(31), '{names}'{values})), {HASH_LENGTH})"


def invalid_column(index: int) -> str:
    return f"__invalid_{index}"


def _staging_select(spec: AudienceSpec, zoned: AbstractSet[str]) -> str:
    """Key, converted fields, hash, and per typed field the raw text of unfit values."""
    q = DUCKDB.quote
    parts = [q(KEY_COLUMN)]
    parts += [f"{converted(f, raw_value(f, zoned))} AS {q(f.destination)}" for f in spec.fields]
    parts.append(f"{attributes_hash(spec.fields, zoned)} AS {q(HASH_COLUMN)}")
    parts += [
        f"CASE WHEN NOT {fits(f, raw_value(f, zoned))} THEN "
        f"CAST({raw_value(f, zoned)} AS VARCHAR) END AS {q(invalid_column(i))}"
        for i, f in enumerate(spec.fields)
        if f.type not in (None, FieldType.STRING)
    ]
    return ", ".join(parts)


def _zoned_fields(spec: AudienceSpec, columns: Sequence[Column], dialect: Dialect) -> set[str]:
    zoned = {c.name for c in columns if is_zoned(c.native_type)}
    return {
        f.destination for f in spec.fields
        if any(dialect.same_column(f.source, name) for name in zoned)
    }


def _checks(spec: AudienceSpec, dups: str) -> list[Check]:
    """(kind, field, SQL condition true for a bad row) for every check of this audience."""
    key = DUCKDB.quote(KEY_COLUMN)
    checks = [
        Check(ProblemKind.NULL_KEY, None, f"{key} IS NULL OR trim({key}) = ''", None),
        Check(ProblemKind.DUPLICATE_KEY, None,
              f"{key} IN (SELECT {key} FROM {DUCKDB.quote(dups)})", "NULL"),
    ]
    for i, f in enumerate(spec.fields):
        if f.type not in (None, FieldType.STRING):
            column = DUCKDB.quote(invalid_column(i))
            checks.append(Check(ProblemKind.INVALID_VALUE, f.destination,
                                f"{column} IS NOT NULL", column))
    return checks


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
    """Make `table` in `into` (a temp view) hold the audience's valid rows only.

    Its columns: `member_key`, one per destination field (converted to the field's type) and
    `attributes_hash`. The rows live in temp table `<table>__staged`. Raises
    `NoValidRowsError` when the audience had rows and none of them is valid.
    """
    if columns is None:
        columns = discover_columns(source, spec.model)
    query = build_audience_query(spec, source.dialect, now=now, columns=columns)
    q = DUCKDB.quote
    staged = f"{table}__staged"
    into.execute(f"DROP VIEW IF EXISTS {q(table)}")
    zoned = _zoned_fields(spec, columns, source.dialect)
    source.materialize(query, into, staged, select=_staging_select(spec, zoned))
    report = _check_staged(into, spec, table, staged, samples)
    final = ", ".join([q(KEY_COLUMN), *(q(f.destination) for f in spec.fields), q(HASH_COLUMN)])
    into.execute(f"CREATE OR REPLACE TEMP VIEW {q(table)} AS SELECT {final} FROM {q(staged)}")
    if report.rows_read and not report.valid_rows:
        details = "; ".join(p.describe() for p in report.problems)
        raise NoValidRowsError(
            f"activation {spec.activation!r}: none of the {report.rows_read} rows of its "
            f"audience can be synced: {details}"
        )
    return report


def _check_staged(
    into: duckdb.DuckDBPyConnection, spec: AudienceSpec, table: str, staged: str, samples: int
) -> AudienceReport:
    """Count and sample the staged rows' problems, then delete the rows that have any."""
    q = DUCKDB.quote
    dups, key = f"{table}__dups", q(KEY_COLUMN)
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(dups)} AS SELECT {key} FROM {q(staged)} "
        f"WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1"
    )
    checks = _checks(spec, dups)
    report = count_problems(into, spec.activation, table, staged, checks, samples)
    if report.rejected_rows:
        into.execute(
            f"DELETE FROM {q(staged)} WHERE " + " OR ".join(f"({c.condition})" for c in checks)
        )
    into.execute(f"DROP TABLE {q(dups)}")
    return report
