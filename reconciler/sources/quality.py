"""Materializing an audience into DuckDB, with bad data counted, sampled and left out.

Owns the checks every audience passes before it may be synced, run as SQL in the caller's
DuckDB connection (the same place the planner computes diffs), whatever the source:
- a NULL or blank member key, or a key found on several rows (all its rows are left out:
  which one to sync would be a guess);
- a mapped value that does not fit its destination field's declared type (its row is left
  out, so a contact is never synced with half its fields).
Each problem is counted, and a few samples are kept, masked through `reconciler.masking`:
raw personal data never leaves this module. Python never holds the audience: the rows go
from the source into DuckDB in one pass, converted and hashed on the way in, and only the key,
the hash and a flag per typed field stay (a wide copy of millions of rows would not fit a
small machine's memory); two aggregate queries count the problems. The field values of the
few rows a plan sends are read again by key (`materialize_rows`), and so are the raw values
of invalid samples.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

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
from reconciler.sources.columns import Column, is_zoned
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import DUCKDB, Dialect
from reconciler.sources.errors import NoValidRowsError
from reconciler.sources.problems import AudienceReport, Check, ProblemKind, count_problems

HASH_FORMAT_VERSION = "duckdb-hash/1"
"""The attribute hash: DuckDB's 64-bit `hash()` of the converted values (see
`attributes_hash`). Snapshots record `hash_format(conn)`, this name plus a canary, so a plan
compares hashes only with hashes made the same way."""

_CANARY = ("hash('reconciler', 42::BIGINT, 1.5::DOUBLE, TRUE, DATE '2020-01-02', "
           "TIMESTAMP '2020-01-02 03:04:05', NULL::VARCHAR, 'é')")

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
    if field.max_length is not None and field.type in (None, FieldType.STRING):
        check += f" AND length(CAST({column} AS VARCHAR)) <= {int(field.max_length)}"
    return f"({column} IS NULL OR ({check}))"


def raw_value(field: AudienceField, zoned: AbstractSet[str] = frozenset()) -> str:
    """A staged field's raw value; instants are read in UTC so no result (nor hash) depends
    on the TimeZone setting of the machine that plans."""
    column = DUCKDB.quote(field.destination)
    return f"timezone('UTC', {column})" if field.destination in zoned else column


def attributes_hash(fields: Sequence[AudienceField], zoned: AbstractSet[str] = frozenset()) -> str:
    """The DuckDB expression hashing a row's converted field values into a UBIGINT.

    DuckDB's `hash()` of a digest of the destination names (so remapping a field changes
    every hash too) and of each converted value, typed, NULL included: 64 bits, plenty to tell
    one row's old values from its new ones, and ten times cheaper than md5 over text. It is
    not promised stable across DuckDB releases, hence `hash_format`. Without fields there is
    nothing to compare: the hash is NULL.
    """
    if not fields:
        return "CAST(NULL AS UBIGINT)"
    mapping = json.dumps([f.destination for f in fields]).encode()
    names = hashlib.md5(mapping, usedforsecurity=False).hexdigest()[:8]
    values = "".join(f", {converted(f, raw_value(f, zoned))}" for f in fields)
    return f"hash('{names}'{values})"


def hash_format(conn: duckdb.DuckDBPyConnection) -> str:
    """How this DuckDB makes attribute hashes: the format's name and the hash of a canary row
    of every field type. A snapshot made under another format is not compared by hash."""
    rows = conn.execute(f"SELECT {_CANARY}").fetchall()
    return f"{HASH_FORMAT_VERSION}:{int(rows[0][0]):016x}"


def invalid_column(index: int) -> str:
    return f"__invalid_{index}"


def _typed(spec: AudienceSpec) -> list[tuple[int, AudienceField]]:
    """The fields whose values may not fit their type (strings do, unless they have a
    length), with indexes."""
    return [(i, f) for i, f in enumerate(spec.fields)
            if f.type not in (None, FieldType.STRING) or f.max_length is not None]


def _staging_select(spec: AudienceSpec, zoned: AbstractSet[str]) -> str:
    """Key, hash, and per typed field whether its value is unfit."""
    q = DUCKDB.quote
    parts = [q(KEY_COLUMN), f"{attributes_hash(spec.fields, zoned)} AS {q(HASH_COLUMN)}"]
    parts += [f"NOT {fits(f, raw_value(f, zoned))} AS {q(invalid_column(i))}"
              for i, f in _typed(spec)]
    return ", ".join(parts)


def _rows_select(spec: AudienceSpec, zoned: AbstractSet[str]) -> str:
    """Key, converted fields and hash: what is sent for a member."""
    q = DUCKDB.quote
    parts = [q(KEY_COLUMN)]
    parts += [f"{converted(f, raw_value(f, zoned))} AS {q(f.destination)}" for f in spec.fields]
    parts.append(f"{attributes_hash(spec.fields, zoned)} AS {q(HASH_COLUMN)}")
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
    for i, f in _typed(spec):
        # Samples of the raw values are read again from the source (see _value_samples).
        checks.append(Check(ProblemKind.INVALID_VALUE, f.destination,
                            DUCKDB.quote(invalid_column(i)), None))
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

    Its columns: `member_key` and `attributes_hash` (the field values are read again for the
    rows that need them: `materialize_rows`). The rows live in temp table `<table>__staged`.
    Raises `NoValidRowsError` when the audience had rows and none of them is valid.
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
    report = _value_samples(source, query, into, spec, report, zoned, samples)
    final = f"{q(KEY_COLUMN)}, {q(HASH_COLUMN)}"
    into.execute(f"CREATE OR REPLACE TEMP VIEW {q(table)} AS SELECT {final} FROM {q(staged)}")
    if report.rows_read and not report.valid_rows:
        details = "; ".join(p.describe() for p in report.problems)
        raise NoValidRowsError(
            f"activation {spec.activation!r}: none of the {report.rows_read} rows of its "
            f"audience can be synced: {details}"
        )
    return report


def materialize_rows(
    source: Source,
    spec: AudienceSpec,
    into: duckdb.DuckDBPyConnection,
    table: str,
    keys: str,
    *,
    now: dt.datetime,
    columns: Sequence[Column] | None = None,
) -> None:
    """Make temp table `table` hold the field values of the members named in `keys`.

    `keys` is a table of `into` with `member_key` and the `attributes_hash` the plan saw. The
    audience is read again and a row is kept only when its hash is still that one: a row
    that changed since (the warehouse is live) is left out, for the caller to settle, rather
    than sent with values the plan did not show. Columns: `member_key`, one per destination
    field (converted to its type), `attributes_hash`; one row per key, in key order.
    """
    if columns is None:
        columns = discover_columns(source, spec.model)
    query = build_audience_query(spec, source.dialect, now=now, columns=columns)
    q = DUCKDB.quote
    if not into.execute(f"SELECT count(*) FROM {q(keys)}").fetchall()[0][0]:
        # Nothing to send (e.g. no field changed): the table's columns without a second
        # scan of the audience (a remote warehouse would stream it all to be filtered here).
        query = SqlFragment(f"SELECT * FROM ({query.sql}) AS q LIMIT 0", query.params)
    zoned = _zoned_fields(spec, columns, source.dialect)
    read = f"{table}__read"
    source.materialize(query, into, read, select=_rows_select(spec, zoned),
                       where=f"{q(KEY_COLUMN)} IN (SELECT {q(KEY_COLUMN)} FROM {q(keys)})")
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(table)} AS SELECT r.* FROM {q(read)} AS r "
        f"SEMI JOIN {q(keys)} AS k USING ({q(KEY_COLUMN)}, {q(HASH_COLUMN)}) "
        f"QUALIFY row_number() OVER (PARTITION BY r.{q(KEY_COLUMN)}) = 1 "
        f"ORDER BY r.{q(KEY_COLUMN)}")
    into.execute(f"DROP TABLE {q(read)}")


def _value_samples(source: Source, query: SqlFragment, into: duckdb.DuckDBPyConnection,
                   spec: AudienceSpec, report: AudienceReport, zoned: AbstractSet[str],
                   samples: int) -> AudienceReport:
    """The report with masked `key: raw value` samples of each field's invalid values, read
    again from the source in one pass (the staged rows keep only a flag)."""
    q = DUCKDB.quote
    invalid = {p.field for p in report.problems if p.kind is ProblemKind.INVALID_VALUE}
    typed = [(i, f) for i, f in _typed(spec) if f.destination in invalid]
    if samples <= 0 or not typed:
        return report
    found = f"{report.table}__invalid"
    values = [f"CASE WHEN NOT {fits(f, raw_value(f, zoned))} THEN "
              f"CAST({raw_value(f, zoned)} AS VARCHAR) END AS {q(invalid_column(i))}"
              for i, f in typed]
    source.materialize(query, into, found, select=", ".join([q(KEY_COLUMN), *values]),
                       where=" OR ".join(f"NOT {fits(f, raw_value(f, zoned))}"
                                         for _, f in typed))
    masked: dict[str, tuple[str, ...]] = {}
    for i, f in typed:
        column = q(invalid_column(i))
        rows = into.execute(
            f"SELECT DISTINCT {q(KEY_COLUMN)}, {column} FROM {q(found)} "
            f"WHERE {column} IS NOT NULL ORDER BY 1, 2 LIMIT {int(samples)}").fetchall()
        masked[f.destination] = tuple(f"{mask_value(key)}: {mask_value(value)}"
                                      for key, value in rows)
    into.execute(f"DROP TABLE {q(found)}")
    problems = tuple(
        dataclasses.replace(p, samples=masked[p.field])
        if p.kind is ProblemKind.INVALID_VALUE and p.field in masked else p
        for p in report.problems)
    return dataclasses.replace(report, problems=problems)


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
