"""The row-hash tables of `planIn: warehouse`, kept by apply in the source's `stateSchema`.

Owns the only writes to a warehouse: after an apply has written its snapshot, the activation's
table `<stateSchema>.members_<digest>` (member_key, row_hash) is brought in line with the
members the snapshot now trusts (recorded with the attribute hash the plan compared), each with
the row hash the plan read, and its row in `<stateSchema>.activations` names the snapshot's
serial, so the next plan knows the table describes that snapshot (`incremental.py` reads both).
After a full read the table is written again whole; after an incremental one the keys read
back, the keys that left and the members the snapshot stopped trusting are deleted and those
read back that it trusts copied in. Each write is one transaction. PostgreSQL is written here
(COPY, keys bound as one array); Snowflake by `snowflake_state.py`. Nothing is written but
these two tables; the connection URL and credentials are never printed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from reconciler.connections import printable_url
from reconciler.manifests.models import PostgresSource, SnowflakeSource
from reconciler.manifests.values import resolve_env_ref
from reconciler.sources.audience import HASH_COLUMN, KEY_COLUMN
from reconciler.sources.dialects import DUCKDB, POSTGRES
from reconciler.sources.incremental import (
    META_TABLE,
    ROW_HASH,
    Changes,
    ReadTables,
    members_table,
    qualified,
    record_failure,
)


@dataclass(frozen=True)
class WarehouseRead:
    """One plan's warehouse-side read, for its apply to record (see `record`)."""

    source: str
    spec: PostgresSource | SnowflakeSource
    activation: str
    fingerprint: str
    desired: str  # the plan's desired table in the workspace
    tables: ReadTables
    full: bool  # every row was read: the table is built again
    manifest_dir: Path = Path()  # where the Source's manifest is (a key file is relative)

    def record(self, into: duckdb.DuckDBPyConnection, snapshot: str, serial: int) -> None:
        """Bring the warehouse's table in line with `snapshot` (a table of `into`: the
        members the apply just recorded, with their attribute hashes) at `serial`: the
        members it trusts keep the row hash the plan saw (not the row's hash now, which
        may have changed since: the next plan then reads it again)."""
        trusted = _trusted_keys(into, snapshot, self.desired)
        try:
            stale = [] if self.full else self._stale(into, trusted)
            changes = Changes(self.full, stale, self._fresh(into, trusted))
            if isinstance(self.spec, SnowflakeSource):
                from reconciler.sources.snowflake_state import write_snowflake

                write_snowflake(self.source, self.spec, self.manifest_dir, self.activation,
                                self.fingerprint, changes, serial)
            else:
                self._write_postgres(self.spec, changes, serial)
        finally:
            into.execute(f"DROP TABLE IF EXISTS {DUCKDB.quote(trusted)}")

    def _stale(self, into: duckdb.DuckDBPyConnection, trusted: str) -> list[str]:
        """The keys whose rows were read back or left, and the unchanged members the
        snapshot no longer trusts: their rows in the warehouse's table go."""
        q, k = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
        read, gone, unchanged = (q(t) for t in (self.tables.read, self.tables.gone,
                                                self.tables.unchanged))
        rows = into.execute(f"SELECT {k} FROM {read} UNION SELECT {k} FROM {gone} UNION "
                            f"(SELECT {k} FROM {unchanged} EXCEPT SELECT * FROM {q(trusted)})")
        return [str(row[0]) for row in rows.fetchall()]

    def _fresh(self, into: duckdb.DuckDBPyConnection,
               trusted: str) -> duckdb.DuckDBPyConnection:
        """The keys read back on one row each that the snapshot trusts, with the row hash
        the plan saw."""
        q, k = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
        return into.execute(
            f"SELECT r.{k}, r.{q(ROW_HASH)} FROM {q(self.tables.read)} AS r "
            f"SEMI JOIN {q(trusted)} AS t ON t.{k} = r.{k} WHERE r.copies = 1")

    def _write_postgres(self, spec: PostgresSource, changes: Changes, serial: int) -> None:
        url = resolve_env_ref(spec.url, f"source {self.source!r} url")
        table = qualified(spec.state_schema, members_table(self.activation))
        key, hash_ = POSTGRES.quote(KEY_COLUMN), POSTGRES.quote(ROW_HASH)
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                _ensure_tables(conn, spec.state_schema)
                if changes.full:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                    conn.execute(f"CREATE TABLE {table} ({key} text PRIMARY KEY, "
                                 f"{hash_} bigint NOT NULL)")
                else:
                    conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s)",
                                 (changes.stale,))
                with conn.cursor() as cur, cur.copy(
                        f"COPY {table} ({key}, {hash_}) FROM STDIN") as copy:
                    for rows in changes.batches():
                        for row in rows:
                            copy.write_row(row)
                self._mark_postgres(conn, spec.state_schema, table, serial)
        except psycopg.Error as exc:
            raise record_failure(self.source, self.activation, spec.state_schema,
                                 printable_url(url), exc) from exc

    def _mark_postgres(self, conn: psycopg.Connection[tuple[object, ...]], schema: str,
                       table: str, serial: int) -> None:
        members = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        conn.execute(
            f"INSERT INTO {qualified(schema, META_TABLE)} (activation, table_name, serial, "
            "fingerprint, members) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (activation) DO "
            "UPDATE SET table_name = excluded.table_name, serial = excluded.serial, "
            "fingerprint = excluded.fingerprint, members = excluded.members",
            (self.activation, members_table(self.activation), serial, self.fingerprint,
             members))


def _trusted_keys(into: duckdb.DuckDBPyConnection, snapshot: str, desired: str) -> str:
    """A temp table of the members recorded with the hash the plan compared."""
    q, key, hash_ = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN), DUCKDB.quote(HASH_COLUMN)
    trusted = f"{desired}__wh_trusted"
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(trusted)} AS SELECT s.{key} FROM {q(snapshot)} AS s "
        f"JOIN {q(desired)} AS d ON d.{key} = s.{key} "
        f"WHERE CAST(s.{hash_} AS UBIGINT) IS NOT DISTINCT FROM d.{hash_}")
    return trusted


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
