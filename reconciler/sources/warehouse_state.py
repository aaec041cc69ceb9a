"""The row-hash tables of `planIn: warehouse`, kept by apply in the source's `stateSchema`.

Owns the only writes to a warehouse: after an apply has written its snapshot, the activation's
table `<stateSchema>.members_<digest>` (member_key, row_hash) is brought in line with the
members the snapshot now trusts (kept, with the hash the plan compared), and its row in
`<stateSchema>.activations` names the snapshot's serial, so the next plan knows the table
describes that snapshot (`incremental.py` reads both). After a full read the table is built
again in the warehouse; after an incremental one only the keys read back, the keys that left
and the members the snapshot stopped trusting are rewritten (their keys bound as one array).
Nothing is written but these two tables; the connection URL is never printed.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import psycopg
from psycopg import sql

from reconciler.connections import one_line, printable_url
from reconciler.manifests.models import PostgresSource
from reconciler.manifests.values import resolve_env_ref
from reconciler.sources.audience import HASH_COLUMN, KEY_COLUMN, AudienceSpec
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import DUCKDB, POSTGRES
from reconciler.sources.errors import SourceQueryError
from reconciler.sources.incremental import (
    META_TABLE,
    ROW_HASH,
    ReadTables,
    members_table,
    qualified,
    row_hash,
)


@dataclass(frozen=True)
class WarehouseRead:
    """One plan's warehouse-side read, for its apply to record (see `record`)."""

    source: str
    spec: PostgresSource
    audience: AudienceSpec
    query: SqlFragment
    fingerprint: str
    desired: str  # the plan's desired table in the workspace
    tables: ReadTables
    full: bool  # every row was read: the table is built again

    def record(self, into: duckdb.DuckDBPyConnection, snapshot: str, serial: int) -> None:
        """Bring the warehouse's table in line with `snapshot` (a table of `into`: the
        members the apply just recorded, with their attribute hashes) at `serial`."""
        trusted = _trusted_keys(into, snapshot, self.desired)
        url = resolve_env_ref(self.spec.url, f"source {self.source!r} url")
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                _search_path(conn, self.spec.search_path)
                _ensure_tables(conn, self.spec.state_schema)
                if self.full:
                    self._rebuild(conn, into, trusted)
                else:
                    self._update(conn, into, trusted)
                self._mark(conn, serial)
        except psycopg.Error as exc:
            raise SourceQueryError(
                f"source {self.source!r}: cannot record activation {self.audience.activation!r}'s "
                f"row hashes in schema {self.spec.state_schema!r} of {printable_url(url)}: "
                f"{one_line(exc)}") from exc
        finally:
            into.execute(f"DROP TABLE IF EXISTS {DUCKDB.quote(trusted)}")

    def _table(self) -> str:
        return qualified(self.spec.state_schema, members_table(self.audience.activation))

    def _hashes_of(self, where: str) -> str:
        """SELECT key, row hash of the audience's unique keys (`where`: over `a`)."""
        key = POSTGRES.quote(KEY_COLUMN)
        return (
            f"SELECT a.{key}, min({row_hash(self.audience, 'a')}) AS {POSTGRES.quote(ROW_HASH)} "
            f"FROM ({self.query.sql}) AS a WHERE {where} GROUP BY a.{key} "
            "HAVING count(*) = 1")

    def _rebuild(self, conn: psycopg.Connection[tuple[object, ...]],
                 into: duckdb.DuckDBPyConnection, trusted: str) -> None:
        table, key = self._table(), POSTGRES.quote(KEY_COLUMN)
        untrusted = _keys(into, f"SELECT {DUCKDB.quote(KEY_COLUMN)} FROM "
                          f"{DUCKDB.quote(self.tables.read)} EXCEPT SELECT * FROM "
                          f"{DUCKDB.quote(trusted)}")
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        hashes = self._hashes_of(f"a.{key} IS NOT NULL")
        conn.execute(f"CREATE TABLE {table} AS {hashes}", self.query.params)
        conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
        conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s)", (untrusted,))

    def _update(self, conn: psycopg.Connection[tuple[object, ...]],
                into: duckdb.DuckDBPyConnection, trusted: str) -> None:
        table, key = self._table(), POSTGRES.quote(KEY_COLUMN)
        q, k = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
        read, gone, unchanged = (q(t) for t in (self.tables.read, self.tables.gone,
                                                self.tables.unchanged))
        stale = _keys(into, f"SELECT {k} FROM {read} UNION SELECT {k} FROM {gone} UNION "
                      f"(SELECT {k} FROM {unchanged} EXCEPT SELECT * FROM {q(trusted)})")
        fresh = _keys(into, f"SELECT {k} FROM {read} INTERSECT SELECT * FROM {q(trusted)}")
        conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s)", (stale,))
        hashes = self._hashes_of(f"a.{key} = ANY(%s)")
        conn.execute(f"INSERT INTO {table} {hashes}", (*self.query.params, fresh))

    def _mark(self, conn: psycopg.Connection[tuple[object, ...]], serial: int) -> None:
        members = conn.execute(f"SELECT count(*) FROM {self._table()}").fetchall()[0][0]
        meta = qualified(self.spec.state_schema, META_TABLE)
        conn.execute(
            f"INSERT INTO {meta} (activation, table_name, serial, fingerprint, members) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (activation) DO UPDATE SET "
            "table_name = excluded.table_name, serial = excluded.serial, "
            "fingerprint = excluded.fingerprint, members = excluded.members",
            (self.audience.activation, members_table(self.audience.activation), serial,
             self.fingerprint, members))


def _trusted_keys(into: duckdb.DuckDBPyConnection, snapshot: str, desired: str) -> str:
    """A temp table of the members recorded with the hash the plan compared."""
    q, key, hash_ = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN), DUCKDB.quote(HASH_COLUMN)
    trusted = f"{desired}__wh_trusted"
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(trusted)} AS SELECT s.{key} FROM {q(snapshot)} AS s "
        f"JOIN {q(desired)} AS d ON d.{key} = s.{key} "
        f"WHERE CAST(s.{hash_} AS UBIGINT) IS NOT DISTINCT FROM d.{hash_}")
    return trusted


def _keys(into: duckdb.DuckDBPyConnection, select: str) -> list[str]:
    return [str(row[0]) for row in into.execute(select).fetchall()]


def _search_path(conn: psycopg.Connection[tuple[object, ...]], search_path: str | None) -> None:
    if search_path:
        schemas = [part.strip() for part in search_path.split(",") if part.strip()]
        conn.execute(sql.SQL("SET search_path TO {}").format(
            sql.SQL(", ").join(sql.Identifier(s) for s in schemas)))


def _ensure_tables(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """The schema (created only when missing: the role may have CREATE on it and not on the
    database) and its `activations` table."""
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if not exists.fetchall():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {qualified(schema, META_TABLE)} (activation text PRIMARY "
        "KEY, table_name text NOT NULL, serial bigint NOT NULL, fingerprint text NOT NULL, "
        "members bigint NOT NULL)")
