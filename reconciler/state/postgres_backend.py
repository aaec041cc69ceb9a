"""The shared state backend: a PostgreSQL schema (default `reconciler`) for teams and CI.

Owns the connection (autocommit outside explicit transactions; readers run with
`default_transaction_read_only`; one call at a time, so threads may share it), SQL execution
with `?` turned into psycopg's `%s`, exclusive sections as transaction-scoped advisory locks
(correct across processes and machines), the server's clock for leases, and the
snapshot bulk paths: COPY FROM STDIN fed by Arrow's CSV writer, COPY TO STDOUT read by Arrow's
CSV reader straight into DuckDB. The URL may carry a password: it is never printed.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

from reconciler.arrow_streams import load_reader_into
from reconciler.connections import one_line, printable_url
from reconciler.state.backend import (
    SEALED_PROJECTION,
    SNAPSHOT_SEALED,
    BackendKind,
    SnapshotHashes,
    snapshot_has_hash,
    snapshot_select,
)
from reconciler.state.errors import StateConnectionError, StateError
from reconciler.state.records import SNAPSHOT_HASH, SNAPSHOT_KEY

_cursors = itertools.count()


class PostgresBackend:
    kind = BackendKind.POSTGRES

    def __init__(self, url: str, *, schema: str, read_only: bool) -> None:
        self.location = f"{printable_url(url)} (schema {schema})"
        self.schema = schema
        self.read_only = read_only
        self._url = url
        self._calls = threading.RLock()
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
            if read_only:
                self.conn.execute("SET default_transaction_read_only = on")
            else:
                # Parallel jobs may meet on a new database: IF NOT EXISTS alone races.
                with self.conn.transaction():
                    self.lock_schema()
                    self.conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                    )
            self.conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        except psycopg.Error as exc:
            raise StateConnectionError(
                f"cannot open the state store {self.location}: {one_line(exc)}"
            ) from exc

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.query(statement, params)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._calls, self.conn.cursor() as cur:
                cur.execute(statement.replace("?", "%s"), list(params))
                return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise StateError(f"state store {self.location}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._calls, self.conn.transaction():
            yield

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        with self.transaction():
            self.execute("SELECT pg_advisory_xact_lock(hashtext(?))",
                         [f"reconciler:{self.schema}:{name}"])
            yield

    def now(self) -> dt.datetime:
        rows = self.query("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
        moment: dt.datetime = rows[0][0]
        return moment

    def note_lock(self, activation: str, expires_at: dt.datetime | None) -> None:
        """Other processes read the lock rows themselves."""

    def holder_alive(self, activation: str) -> None:
        """Holders may be on other machines: only their lease tells."""

    def reopen(self) -> PostgresBackend:
        return PostgresBackend(self._url, schema=self.schema, read_only=self.read_only)

    def has_table(self, table: str) -> bool:
        rows = self.query(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [self.schema, table],
        )
        return bool(rows[0][0])

    def lock_schema(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [f"reconciler:{self.schema}"])

    def insert_snapshot(self, activation: str, reader: pa.RecordBatchReader) -> int:
        snapshot_has_hash(reader.schema)
        options = pa_csv.WriteOptions(include_header=False)
        count = 0
        # The sealed keys' column only when given: a plain store may predate it.
        sealed = f", {SNAPSHOT_SEALED}" if SNAPSHOT_SEALED in reader.schema.names else ""
        copy_sql = (f"COPY snapshots (activation, member_key, attributes_hash{sealed}) "
                    "FROM STDIN (FORMAT csv)")
        try:
            with self.conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for batch in reader:
                    rows = _snapshot_rows(activation, batch)
                    buffer = io.BytesIO()
                    pa_csv.write_csv(rows, buffer, options)
                    copy.write(buffer.getvalue())
                    count += batch.num_rows
        except psycopg.Error as exc:
            raise StateError(f"state store {self.location}: {exc}") from exc
        return count

    def stream_snapshot(self, activation: str, batch_rows: int,
                        sealed: bool = False) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(
            snapshot_select(sealed)[1], self._snapshot_batches(activation, batch_rows, sealed)
        )

    def _snapshot_batches(self, activation: str, batch_rows: int,
                          sealed: bool) -> Iterator[pa.RecordBatch]:
        select, schema = snapshot_select(sealed)
        try:
            name = f"reconciler_snapshot_{next(_cursors)}"
            with self.conn.transaction(), self.conn.cursor(name=name) as cur:
                cur.execute(select.replace("?", "%s"), [activation])
                while rows := cur.fetchmany(batch_rows):
                    columns = zip(*rows, strict=True)
                    yield pa.RecordBatch.from_arrays(
                        [pa.array(column, pa.string()) for column in columns], schema=schema)
        except psycopg.Error as exc:
            raise StateError(f"state store {self.location}: {exc}") from exc

    def copy_snapshot_into(
        self, activation: str, into: duckdb.DuckDBPyConnection, table: str,
        hashes: SnapshotHashes, sealed: bool = False,
    ) -> None:
        select, schema = snapshot_select(sealed)
        projection = SEALED_PROJECTION if sealed else hashes.projection()
        statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(
            sql.SQL(select.replace("?", "{}")).format(sql.Literal(activation))
        )
        try:
            with self.conn.cursor() as cur, cur.copy(statement) as copy:
                stream = _CopyStream(copy)
                if stream.at_end():
                    # No snapshot yet (never applied, or an empty audience): Arrow's CSV
                    # reader refuses an empty file, so the empty table is made from the schema.
                    empty = pa.RecordBatchReader.from_batches(schema, [])
                    load_reader_into(empty, into, table, select=projection)
                    return
                reader = pa_csv.open_csv(
                    stream,
                    read_options=pa_csv.ReadOptions(
                        column_names=schema.names, use_threads=False
                    ),
                    convert_options=pa_csv.ConvertOptions(
                        column_types=schema,
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                    ),
                )
                load_reader_into(reader, into, table, select=projection)
        except psycopg.Error as exc:
            raise StateError(f"state store {self.location}: {exc}") from exc

    def reclaim(self) -> None:
        """Rewrite the snapshots table without the dead rows an update or delete left."""
        self.execute("VACUUM FULL snapshots")

    def close(self) -> None:
        self.conn.close()


def _snapshot_rows(activation: str, batch: pa.RecordBatch) -> pa.Table:
    names = batch.schema.names
    hashes = (
        batch.column(names.index(SNAPSHOT_HASH)).cast(pa.string())
        if SNAPSHOT_HASH in names
        else pa.nulls(batch.num_rows, pa.string())
    )
    columns = {
        "activation": pa.repeat(pa.scalar(activation), batch.num_rows),
        SNAPSHOT_KEY: batch.column(names.index(SNAPSHOT_KEY)).cast(pa.string()),
        SNAPSHOT_HASH: hashes,
    }
    if SNAPSHOT_SEALED in names:
        columns[SNAPSHOT_SEALED] = batch.column(names.index(SNAPSHOT_SEALED)).cast(pa.string())
    return pa.table(columns)


class _CopyStream(io.RawIOBase):
    """COPY TO STDOUT chunks as a readable binary file, for Arrow's streaming CSV reader."""

    def __init__(self, copy: psycopg.Copy) -> None:
        self._chunks = iter(copy)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def at_end(self) -> bool:
        """Whether COPY sent nothing at all (it sends no header, so zero rows is zero bytes)."""
        if not self._pending:
            chunk = next(self._chunks, None)
            self._pending = bytes(chunk) if chunk is not None else b""
        return not self._pending

    def readinto(self, buffer: Any) -> int:
        # COPY sends one message per row: fill the whole buffer, or Arrow asks once per row.
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._pending = bytes(chunk)
            size = min(len(view) - filled, len(self._pending))
            view[filled : filled + size] = self._pending[:size]
            self._pending = self._pending[size:]
            filled += size
        return filled
