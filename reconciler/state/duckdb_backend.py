"""The local state backend: one DuckDB file (by default `.reconciler/state.duckdb`).

Owns opening the file (read-only for readers; a missing file reads as an empty store and is
not created; writers take the file lock of `filelock.py` first), SQL execution (one call at a
time per connection, so threads may share it), and the snapshot bulk paths through Arrow.
Must not hold other data than the state store's tables.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from reconciler.arrow_streams import arrow_reader, load_reader_into, quote_duckdb
from reconciler.private import make_private, private_folder
from reconciler.state.backend import (
    SEALED_PROJECTION,
    SNAPSHOT_SEALED,
    BackendKind,
    SnapshotHashes,
    snapshot_has_hash,
    snapshot_select,
)
from reconciler.state.errors import StateConnectionError, StateError, StoreInUseError
from reconciler.state.filelock import (
    acquire_file_lock,
    holds_activation_lock,
    note_activation_lock,
    read_holder,
    release_file_lock,
)
from reconciler.state.records import SNAPSHOT_HASH, SNAPSHOT_KEY

_views = itertools.count()
_sections: dict[str, threading.Lock] = {}
_sections_guard = threading.Lock()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBBackend:
    kind = BackendKind.DUCKDB

    def __init__(self, path: Path, *, read_only: bool) -> None:
        self.path = path
        self.location = str(path)
        self.read_only = read_only
        self._calls = threading.RLock()
        self._closed = False
        self._copy_folder: Path | None = None  # set by copy_of
        try:
            if read_only and not path.exists():
                self.conn = duckdb.connect(":memory:")  # nothing applied yet: an empty store
                return
            if not read_only:
                private_folder(path.parent)
                acquire_file_lock(path)
        except OSError as exc:
            raise StateConnectionError(f"cannot open the state store {path}: {exc}") from exc
        try:
            self.conn = duckdb.connect(str(path), read_only=read_only)
            if not read_only:
                self._protect()
            # No progress bar on stdout for long snapshot copies (plan output is machine-read).
            self.conn.execute("SET enable_progress_bar = false")
        except (duckdb.Error, OSError) as exc:
            if not read_only:
                release_file_lock(path)
            if "Conflicting lock" in str(exc):
                raise StoreInUseError(str(path), read_holder(path)) from exc
            raise StateConnectionError(f"cannot open the state store {path}: {exc}") from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.query(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._calls:
                cursor = self.conn.execute(sql, list(params))
                rows = cursor.fetchall() if cursor.description else []
                if not self.read_only:
                    self._protect()
                return rows
        except duckdb.Error as exc:
            raise StateError(f"state store {self.location}: {exc}") from exc

    def _protect(self) -> None:
        """The database and its write-ahead log (DuckDB makes them, with the umask's mode;
        the log comes and goes with checkpoints) readable by the owner only."""
        make_private(self.path, self.path.with_name(self.path.name + ".wal"))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._calls:
            self.conn.begin()
            try:
                yield
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.commit()
            self._protect()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        # Other processes are kept out by the file lock; threads of this one by this lock.
        with _sections_guard:
            section = _sections.setdefault(f"{self.path.resolve()}:{name}", threading.Lock())
        with section, self.transaction():
            yield

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def note_lock(self, activation: str, expires_at: dt.datetime | None) -> None:
        until = None if expires_at is None else expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        note_activation_lock(self.path, activation, until)

    def holder_alive(self, activation: str) -> bool:
        # This process has the file, so no other process holds a lock in it: a row this
        # process did not take was left by a process that died (or never released it).
        return holds_activation_lock(self.path, activation)

    def reopen(self) -> DuckDBBackend:
        return DuckDBBackend(self.path, read_only=self.read_only)

    def has_table(self, table: str) -> bool:
        rows = self.query(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = ?",
            [table],
        )
        return bool(rows[0][0])

    def lock_schema(self) -> None:
        """A DuckDB file has one writing process at a time: nothing to lock."""

    def insert_snapshot(self, activation: str, reader: pa.RecordBatchReader) -> int:
        hash_column = SNAPSHOT_HASH if snapshot_has_hash(reader.schema) else "NULL"
        # The sealed keys' column only when given: a plain store may predate it.
        sealed = ((f", {SNAPSHOT_SEALED}", f", CAST({SNAPSHOT_SEALED} AS VARCHAR)")
                  if SNAPSHOT_SEALED in reader.schema.names else ("", ""))
        view = f"__reconciler_snapshot_{next(_views)}"
        self.conn.register(view, reader)
        try:
            rows = self.query(
                f"INSERT INTO snapshots (activation, member_key, attributes_hash{sealed[0]}) "
                f"SELECT ?, CAST({SNAPSHOT_KEY} AS VARCHAR), CAST({hash_column} AS VARCHAR)"
                f"{sealed[1]} FROM {view}",
                [activation],
            )
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction took it along
                self.conn.unregister(view)
        return int(rows[0][0]) if rows else 0

    def stream_snapshot(self, activation: str, batch_rows: int,
                        sealed: bool = False) -> pa.RecordBatchReader:
        select, _ = snapshot_select(sealed)
        return arrow_reader(self.conn.sql(select, params=[activation]), batch_rows)

    def copy_snapshot_into(
        self, activation: str, into: duckdb.DuckDBPyConnection, table: str,
        hashes: SnapshotHashes, sealed: bool = False,
    ) -> None:
        projection = SEALED_PROJECTION if sealed else hashes.projection()
        if into is self.conn:
            self.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote_duckdb(table)} AS "
                f"SELECT {projection} FROM ({snapshot_select(sealed)[0]})",
                [activation],
            )
            return
        load_reader_into(self.stream_snapshot(activation, 100_000, sealed), into, table,
                         select=projection)

    def reclaim(self) -> None:
        """Rewrite the file as a copy of its live rows: rows deleted or rewritten in place (a
        plain snapshot once encrypted) leave nothing behind in its free blocks."""
        fresh = self.path.with_name(self.path.name + ".rewrite")
        for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
            leftover.unlink(missing_ok=True)
        with self._calls:
            name = self.query("SELECT current_database()")[0][0]
            self.execute(f"ATTACH {_literal(str(fresh))} AS __reconciler_fresh")
            try:
                self.execute(f"COPY FROM DATABASE {quote_duckdb(name)} TO __reconciler_fresh")
            finally:
                self.execute("DETACH __reconciler_fresh")
            make_private(fresh)
            self.conn.close()  # the file lock stays held: no other process opens it meanwhile
            os.replace(fresh, self.path)
            self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
            self.conn = duckdb.connect(str(self.path))
            self.conn.execute("SET enable_progress_bar = false")

    @classmethod
    def copy_of(cls, path: Path, holder: str, attempts: int = 3) -> DuckDBBackend:
        """A read-only store on a copy of `path` and its write-ahead log, for a reader that
        must not wait for the writer holding it (`status`, `state locks`). The copy is as of
        the moment it was taken; it sits in a private temporary folder, removed on close. A
        copy torn by a write in progress fails to open: it is taken again."""
        for attempt in range(1, attempts + 1):
            folder = Path(tempfile.mkdtemp(prefix="reconciler-state-copy-"))  # 0700
            copy = folder / path.name
            try:
                shutil.copyfile(path, copy)
                wal = path.with_name(path.name + ".wal")
                if wal.exists():
                    shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
                backend = cls(copy, read_only=True)
            except (OSError, StateConnectionError):
                shutil.rmtree(folder, ignore_errors=True)
                if attempt == attempts:
                    raise
                continue
            backend.location = f"{path} (a copy: the store is in use by {holder})"
            backend._copy_folder = folder
            return backend
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.conn.close()
        if not self.read_only:
            release_file_lock(self.path)
        if self._copy_folder is not None:
            shutil.rmtree(self._copy_folder, ignore_errors=True)
