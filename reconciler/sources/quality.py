"""Materializing an audience into DuckDB, with bad data counted, sampled and left out.

Owns the checks every audience passes before it may be synced, run as SQL in the caller's
DuckDB connection (the same place the planner computes diffs), whatever the source:
- a NULL or blank member key (its row is left out);
- a key found on several rows, settled by the activation's `duplicateKeys` (`duplicates.py`:
  by default all its rows are left out and its member is held as it is);
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
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

import duckdb

from reconciler.manifests.models import DuplicateKeys
from reconciler.masking import mask_value
from reconciler.sources.audience import (
    HASH_COLUMN,
    KEY_COLUMN,
    AudienceSpec,
    build_audience_query,
    discover_columns,
    model_query,
)
from reconciler.sources.base import BadRows, Source
from reconciler.sources.columns import Column, is_zoned
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.conversion import (
    fits,
    invalid_column,
    raw_value,
    rows_select,
    staging_select,
    typed_fields,
)
from reconciler.sources.dialects import DUCKDB, Dialect
from reconciler.sources.duplicates import (
    BLANKS,
    Duplicates,
    find_duplicates,
    settle_duplicates,
)
from reconciler.sources.errors import NoValidRowsError
from reconciler.sources.problems import (
    AudienceReport,
    Check,
    DataProblem,
    ProblemKind,
    count_problems,
)


def _zoned_fields(spec: AudienceSpec, columns: Sequence[Column], dialect: Dialect) -> set[str]:
    zoned = {c.name for c in columns if is_zoned(c.native_type)}
    return {
        f.destination for f in spec.fields
        if any(dialect.same_column(f.source, name) for name in zoned)
    }


def _checks(spec: AudienceSpec, dups: Duplicates) -> list[Check]:
    """(kind, field, SQL condition true for a bad row) for every check of this audience."""
    key = DUCKDB.quote(KEY_COLUMN)
    checks = [Check(ProblemKind.NULL_KEY, None,
                    f"{key} IS NULL OR trim({key}, {BLANKS}) = ''", None)]
    if dups.keys and spec.duplicate_keys is DuplicateKeys.KEEP:
        checks.append(Check(ProblemKind.DUPLICATE_KEY, None,
                            f"{key} IN (SELECT {key} FROM {DUCKDB.quote(dups.table)})", "NULL"))
    for i, f in typed_fields(spec):
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
    held: str | None = None,
    stage: Callable[[SqlFragment, str, str], None] | None = None,
) -> AudienceReport:
    """Make `table` in `into` (a temp view) hold the audience's valid rows only.

    Its columns: `member_key` and `attributes_hash` (the field values are read again for the
    rows that need them: `materialize_rows`). The rows live in temp table `<table>__staged`.
    When `held` is named, the keys whose members stay as they are (on several rows, with
    `duplicateKeys: keep`; on a bad source row) go in that temp table (`report.held_keys`
    counts them); without it they are only left out. Raises `DuplicateKeysError`
    (`duplicateKeys: fail`), and `NoValidRowsError` when the audience had rows and none of
    them is valid or held.
    """
    if columns is None:
        columns = discover_columns(source, spec.model)
    query = build_audience_query(spec, source.dialect, now=now, columns=columns)
    q = DUCKDB.quote
    staged = f"{table}__staged"
    into.execute(f"DROP VIEW IF EXISTS {q(table)}")
    zoned = _zoned_fields(spec, columns, source.dialect)
    stage = stage or (lambda read, name, select: source.materialize(read, into, name,
                                                                      select=select))
    stage(query, staged, staging_select(spec, zoned))
    held_bad = _hold_bad_source_rows(source, spec, into, staged, table) if held else None
    dups = find_duplicates(into, staged, f"{table}__dups", samples)

    def reread(read: str, select: str, where: str) -> None:
        source.materialize(query, into, read, select=select, where=where)

    first = settle_duplicates(spec, into, staged, dups, reread, zoned)
    report = _check_staged(into, spec, table, staged, samples, dups)
    if first is not None:  # the rows left out for a first one count as read and rejected
        report = dataclasses.replace(report, rows_read=report.rows_read + first.rows,
                                     problems=(*report.problems, first))
    held_dups = dups.table if dups.keys and spec.duplicate_keys is DuplicateKeys.KEEP else None
    if held is not None:
        report = _hold(into, report, held, held_dups, held_bad)
    into.execute(f"DROP TABLE {q(dups.table)}")
    report = _value_samples(source, query, into, spec, report, zoned, samples)
    bad = source.bad_rows(model_query(spec.model, source.dialect), samples=samples)
    report = dataclasses.replace(report, problems=(*report.problems,
                                                   *(_bad_source_rows(b) for b in bad)))
    final = f"{q(KEY_COLUMN)}, {q(HASH_COLUMN)}"
    into.execute(f"CREATE OR REPLACE TEMP VIEW {q(table)} AS SELECT {final} FROM {q(staged)}")
    if report.rows_read and not report.valid_rows and not report.held_keys:
        details = "; ".join(p.describe() for p in report.problems)
        raise NoValidRowsError(
            f"activation {spec.activation!r}: none of the {report.rows_read} rows of its "
            f"audience can be synced: {details}"
        )
    return report


def _hold_bad_source_rows(source: Source, spec: AudienceSpec, into: duckdb.DuckDBPyConnection,
                          staged: str, table: str) -> str | None:
    """The table of the keys whose source rows were left out as bad (a file value unfit for
    its declared type), their staged rows deleted: their members are held as they are, since
    the audience cannot say what they should be. None when there are none."""
    bad = f"{table}__badkeys"
    if not source.materialize_bad_keys(model_query(spec.model, source.dialect), spec.match_key,
                                       into, bad):
        return None
    q, key = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
    into.execute(f"DELETE FROM {q(staged)} WHERE {key} IN (SELECT {key} FROM {q(bad)})")
    return bad


def _hold(into: duckdb.DuckDBPyConnection, report: AudienceReport, held: str,
          duplicates: str | None, bad: str | None) -> AudienceReport:
    """Make temp table `held` hold the keys whose members stay as they are (duplicated keys
    under `duplicateKeys: keep`, keys of bad source rows); the report counts them."""
    q, key = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
    counts = {}
    for name in (duplicates, bad):
        if name is not None:
            counts[name] = int(into.execute(f"SELECT count(*) FROM {q(name)}").fetchall()[0][0])
    union = " UNION ".join(f"SELECT {key} FROM {q(name)}" for name in counts)
    if any(counts.values()):
        into.execute(f"CREATE OR REPLACE TEMP TABLE {q(held)} AS {union}")
    if bad is not None:
        into.execute(f"DROP TABLE {q(bad)}")
    return dataclasses.replace(report, held_duplicate_keys=counts.get(duplicates or "", 0),
                               held_bad_keys=counts.get(bad or "", 0))


def _bad_source_rows(bad: BadRows) -> DataProblem:
    article = "an" if bad.type[:1] in "aeiou" else "a"
    return DataProblem(ProblemKind.BAD_SOURCE_ROW, bad.rows, bad.samples,
                       f"{bad.table}.{bad.column}: not {article} {bad.type}")


def materialize_rows(
    source: Source,
    spec: AudienceSpec,
    into: duckdb.DuckDBPyConnection,
    table: str,
    keys: str,
    *,
    now: dt.datetime,
    columns: Sequence[Column] | None = None,
    narrow: Callable[[SqlFragment, str], SqlFragment] | None = None,
) -> None:
    """Make temp table `table` hold the field values of the members named in `keys`.

    `keys` is a table of `into` with `member_key` and the `attributes_hash` the plan saw. The
    audience is read again and a row is kept only when its hash is still that one: a row
    that changed since (the warehouse is live) is left out, for the caller to settle, rather
    than sent with values the plan did not show. Columns: `member_key`, one per destination
    field (converted to its type), `attributes_hash`; one row per key, in key order.
    `narrow(query, keys)`, when given, makes the query read only those keys' rows.
    """
    if columns is None:
        columns = discover_columns(source, spec.model)
    query = build_audience_query(spec, source.dialect, now=now, columns=columns)
    q = DUCKDB.quote
    if not into.execute(f"SELECT count(*) FROM {q(keys)}").fetchall()[0][0]:
        # Nothing to send (e.g. no field changed): the table's columns without a second
        # scan of the audience (a remote warehouse would stream it all to be filtered here).
        query = SqlFragment(f"SELECT * FROM ({query.sql}) AS q LIMIT 0", query.params)
    elif narrow is not None:
        query = narrow(query, keys)
    zoned = _zoned_fields(spec, columns, source.dialect)
    read = f"{table}__read"
    source.materialize(query, into, read, select=rows_select(spec, zoned),
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
    typed = [(i, f) for i, f in typed_fields(spec) if f.destination in invalid]
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


def _check_staged(into: duckdb.DuckDBPyConnection, spec: AudienceSpec, table: str,
                  staged: str, samples: int, dups: Duplicates) -> AudienceReport:
    """Count and sample the staged rows' problems, then delete the rows that have any."""
    q = DUCKDB.quote
    checks = _checks(spec, dups)
    report = count_problems(into, spec.activation, table, staged, checks, samples)
    if report.rejected_rows:
        into.execute(
            f"DELETE FROM {q(staged)} WHERE " + " OR ".join(f"({c.condition})" for c in checks)
        )
    return report
