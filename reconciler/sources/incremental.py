"""Planning in the warehouse (`planIn: warehouse`, PostgreSQL and Snowflake): read back only
changed rows.

Owns the SQL of the incremental read (per dialect) and the staging of its result. Each apply
keeps, per activation, a table `<stateSchema>.members_<digest>` of (member_key, row_hash) — a
64-bit hash of the audience row computed by the warehouse (`row_hash`) — and a row in
`<stateSchema>.activations` naming the state serial and the audience's fingerprint it was
written for (`warehouse_state.py` writes both). A plan then asks the warehouse, in one query,
for the rows whose key is new, NULL or on several rows, whose hash changed, plus the keys that
left; the unchanged members (key and attribute hash) come from the local snapshot. Together
they make the same staged rows a full read would, so quality checks and the diff run
unchanged. Every value is a bound parameter; names are quoted identifiers.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb

from reconciler.connections import one_line
from reconciler.sources.audience import HASH_COLUMN, KEY_COLUMN, AudienceSpec
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import DUCKDB, POSTGRES, Dialect, DialectName
from reconciler.sources.errors import SourceQueryError

META_TABLE = "activations"
ROW_HASH = "row_hash"
CHANGE = "__change"
IN_STATE = "__in_state"
READ, GONE = "read", "gone"
ROWS_PER_WRITE = 50_000
JSON_VALUES = "SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) AS f"
"""Snowflake: the strings of a JSON array bound as one value (no array binding needed)."""


def members_table(activation: str) -> str:
    """The name of an activation's row-hash table (a digest: any activation name fits)."""
    return "members_" + hashlib.sha256(activation.encode()).hexdigest()[:16]


def fingerprint(spec: AudienceSpec, query: SqlFragment) -> str:
    """What the row hashes were made of: the audience query with its bound values, and the
    fields' destination types and lengths (which decide a row's validity locally)."""
    made_of = [query.sql, [repr(p) for p in query.params],
               [(f.destination, str(f.type), f.max_length) for f in spec.fields],
               str(spec.duplicate_keys)]
    return hashlib.sha256(json.dumps(made_of).encode()).hexdigest()


def row_hash(spec: AudienceSpec, alias: str, dialect: Dialect = POSTGRES) -> str:
    """The warehouse's 64-bit hash of an audience row's field values (NULLs included).

    PostgreSQL: `hashtextextended` of the row's text (`ROW(...)::text` keeps NULLs and
    quotes values apart). Snowflake: `HASH(a, b, ...)`, documented as a deterministic signed
    64-bit hash that is never NULL, not even for NULL inputs, and equal for numbers that
    compare equal (documented: docs.snowflake.com/sql-reference/functions-hash-scalar and
    the Snowpark reference of `functions.hash`); kept as text, so the emulator's unsigned
    variant (fakesnow answers with DuckDB's hash) fits the same column."""
    q = dialect.quote
    values = ", ".join(f"{alias}.{q(f.destination)}" for f in spec.fields)
    if dialect.name is DialectName.SNOWFLAKE:
        return f"CAST(HASH({values or repr('')}) AS VARCHAR)"
    if dialect.name is not DialectName.POSTGRES:
        raise ValueError(f"planIn warehouse is not available for {dialect.name}")
    if not spec.fields:
        return "hashtextextended('', 0)"
    return f"hashtextextended(ROW({values})::text, 0)"


def qualified(schema: str, table: str, dialect: Dialect = POSTGRES) -> str:
    return f"{dialect.quote(schema)}.{dialect.quote(table)}"


def changed_rows_query(spec: AudienceSpec, audience: SqlFragment, schema: str,
                       dialect: Dialect = POSTGRES) -> SqlFragment:
    """The audience rows a plan must read (new, changed, NULL or duplicated keys) and the
    keys that left (`__change` = 'gone', fields NULL), against the activation's table."""
    q = dialect.quote
    key = q(KEY_COLUMN)
    state = qualified(schema, members_table(spec.activation), dialect)
    fields = "".join(f", h.{q(f.destination)}" for f in spec.fields)
    hash_ = q(ROW_HASH)
    text = (
        f"WITH h AS (SELECT a.*, {row_hash(spec, 'a', dialect)} AS {q(ROW_HASH)}, "
        f"count(*) OVER (PARTITION BY a.{key}) AS __copies FROM ({audience.sql}) AS a) "
        f"SELECT coalesce(h.{key}, s.{key}) AS {key}{fields}, h.{hash_}, "
        f"CASE WHEN h.__copies IS NULL THEN '{GONE}' ELSE '{READ}' END AS {q(CHANGE)}, "
        f"s.{key} IS NOT NULL AS {q(IN_STATE)} "
        f"FROM h FULL JOIN {state} AS s ON s.{key} = h.{key} "
        f"WHERE h.__copies IS NULL OR h.{key} IS NULL OR h.__copies > 1 "
        f"OR s.{key} IS NULL OR s.{hash_} <> h.{hash_}")
    return SqlFragment(text, audience.params)


def full_read_query(spec: AudienceSpec, audience: SqlFragment,
                    dialect: Dialect = POSTGRES) -> SqlFragment:
    """Every audience row, with the columns of `changed_rows_query`."""
    q = dialect.quote
    return SqlFragment(f"SELECT a.*, {row_hash(spec, 'a', dialect)} AS {q(ROW_HASH)}, '{READ}' AS "
                       f"{q(CHANGE)}, FALSE AS {q(IN_STATE)} FROM ({audience.sql}) AS a",
                       audience.params)


def meta_query(schema: str, activation: str, dialect: Dialect = POSTGRES) -> SqlFragment:
    m = dialect.marker
    return SqlFragment(f"SELECT serial, fingerprint, members FROM "
                       f"{qualified(schema, META_TABLE, dialect)} "
                       f"WHERE activation = {m} AND table_name = {m}",
                       (activation, members_table(activation)))


@dataclass(frozen=True)
class Stored:
    """What the warehouse holds for an activation: the serial, fingerprint and row count."""

    serial: int
    fingerprint: str
    members: int


@dataclass(frozen=True)
class ReadTables:
    """The workspace tables a warehouse-side read leaves for apply (`warehouse_state.py`):
    the keys read back (with their rows' count and the row hash the plan saw), the keys that
    left, the unchanged members taken from the snapshot."""

    read: str
    gone: str
    unchanged: str

    @classmethod
    def of(cls, table: str) -> ReadTables:
        return cls(f"{table}__wh_read", f"{table}__wh_gone", f"{table}__wh_unchanged")


@dataclass(frozen=True)
class Changes:
    """What one apply changes in an activation's row-hash table."""

    full: bool  # the table is written again whole
    stale: list[str]  # the keys whose rows go (incremental writes only)
    fresh: duckdb.DuckDBPyConnection  # a result of (member_key, row_hash) rows to copy in

    def batches(self) -> Iterator[list[tuple[object, ...]]]:
        while rows := self.fresh.fetchmany(ROWS_PER_WRITE):
            yield rows


def record_failure(source: str, activation: str, schema: str, where: str,
                   exc: Exception) -> SourceQueryError:
    """The error of a row-hash table that could not be written."""
    return SourceQueryError(f"source {source!r}: cannot record activation {activation!r}'s "
                            f"row hashes in schema {schema!r} of {where}: {one_line(exc)}")


def stored_state(read_rows: Callable[[SqlFragment], list[tuple[object, ...]]], schema: str,
                 activation: str, dialect: Dialect = POSTGRES) -> Stored | None:
    """The warehouse's record for the activation; None when there is none (or no table)."""
    try:
        rows = read_rows(meta_query(schema, activation, dialect))
    except SourceQueryError:  # no schema or table yet: nothing was recorded
        return None
    if not rows:
        return None
    serial, digest, members = rows[0]
    return Stored(int(str(serial)), str(digest), int(str(members)))


def split_read(into: duckdb.DuckDBPyConnection, raw: str, snapshot: str, tables: ReadTables,
               has_fields: bool) -> int:
    """Fill `tables` from the rows read back (`raw`) and the snapshot (`snapshot`: plain keys
    and digests): the unchanged members are the snapshot's, less the keys read back or gone.
    Their number."""
    q, key, hash_ = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN), DUCKDB.quote(HASH_COLUMN)
    _split(into, raw, tables)
    trusted = f"{hash_} IS NOT NULL" if has_fields else "TRUE"
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(tables.unchanged)} AS SELECT {key}, {hash_} "
        f"FROM {q(snapshot)} AS s WHERE {trusted} "
        f"AND NOT EXISTS (SELECT 1 FROM {q(tables.read)} AS r WHERE r.{key} = s.{key}) "
        f"AND NOT EXISTS (SELECT 1 FROM {q(tables.gone)} AS g WHERE g.{key} = s.{key})")
    return _count(into, tables.unchanged)


def stage_rows(into: duckdb.DuckDBPyConnection, raw: str, staged: str, select: str,
               unchanged: str | None) -> None:
    """Make `staged` from the rows read (`select`: the staging SELECT list) and, after an
    incremental read, the unchanged members (`unchanged`); `raw` is dropped."""
    q, key, hash_ = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN), DUCKDB.quote(HASH_COLUMN)
    into.execute(f"CREATE OR REPLACE TEMP TABLE {q(staged)} AS SELECT {select} FROM {q(raw)} "
                 f"WHERE {q(CHANGE)} = '{READ}'")
    if unchanged is not None:
        into.execute(f"INSERT INTO {q(staged)} ({key}, {hash_}) "
                     f"SELECT {key}, {hash_} FROM {q(unchanged)}")
    into.execute(f"DROP TABLE {q(raw)}")


def expected_unchanged(into: duckdb.DuckDBPyConnection, stored: Stored,
                       tables: ReadTables) -> int:
    """How many unchanged members the warehouse's table says there are: its rows, less the
    keys that left and the keys of its read back (changed or duplicated)."""
    q = DUCKDB.quote
    in_state = into.execute(f"SELECT count(*) FROM {q(tables.read)} "
                            f"WHERE {q(IN_STATE)}").fetchall()[0][0]
    return stored.members - _count(into, tables.gone) - int(in_state)


def split_full(into: duckdb.DuckDBPyConnection, raw: str, tables: ReadTables) -> None:
    """Fill `tables` after a full read: every key was read, none is taken from the snapshot."""
    q, key = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
    _split(into, raw, tables)
    into.execute(f"CREATE OR REPLACE TEMP TABLE {q(tables.unchanged)} AS SELECT {key}, "
                 f"CAST(NULL AS UBIGINT) AS {HASH_COLUMN} FROM {q(tables.read)} LIMIT 0")


def _split(into: duckdb.DuckDBPyConnection, raw: str, tables: ReadTables) -> None:
    """The keys read (their rows' count, whether the warehouse's table has them, one row's
    hash) and the keys gone, from the rows read back."""
    q, key = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
    into.execute(f"CREATE OR REPLACE TEMP TABLE {q(tables.read)} AS SELECT {key}, "
                 f"bool_or({q(IN_STATE)}) AS {q(IN_STATE)}, count(*) AS copies, "
                 f"any_value({q(ROW_HASH)}) AS {q(ROW_HASH)} FROM {q(raw)} "
                 f"WHERE {q(CHANGE)} = '{READ}' AND {key} IS NOT NULL GROUP BY {key}")
    into.execute(f"CREATE OR REPLACE TEMP TABLE {q(tables.gone)} AS SELECT DISTINCT {key} "
                 f"FROM {q(raw)} WHERE {q(CHANGE)} = '{GONE}'")


def keys_query(audience: SqlFragment, keys: list[str],
               dialect: Dialect = POSTGRES) -> SqlFragment:
    """The audience rows of the given keys only (the key filter runs in the warehouse; the
    keys are one bound value: an array, or for Snowflake a JSON array flattened)."""
    key = dialect.quote(KEY_COLUMN)
    if dialect.name is DialectName.SNOWFLAKE:
        return SqlFragment(f"SELECT * FROM ({audience.sql}) AS a WHERE a.{key} IN "
                           f"({JSON_VALUES})", (*audience.params, json.dumps(keys)))
    return SqlFragment(f"SELECT * FROM ({audience.sql}) AS a WHERE a.{key} = ANY(%s)",
                       (*audience.params, keys))


def _count(into: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(into.execute(f"SELECT count(*) FROM {DUCKDB.quote(table)}").fetchall()[0][0])
