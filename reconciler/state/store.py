"""The state store's interface and how to open one.

Owns the split every caller sees: `StateReader` (all the planner and `status` get: read-only,
takes no lock, never migrates) and `StateWriter` (the executor's: migrates the schema on open,
bumps the serial on each state write, takes apply locks and journals batches), and the choice
of backend from a location: a path (DuckDB file, default `.reconciler/state.duckdb`) or a
`postgresql://` URL.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb
import pyarrow as pa

from reconciler.changes.journal import JournalStep
from reconciler.closing import Closing
from reconciler.connections import printable_url
from reconciler.private import exposed
from reconciler.state.backend import Backend, SnapshotHashes
from reconciler.state.contactindex import IndexInfo
from reconciler.state.duckdb_backend import DuckDBBackend
from reconciler.state.encryption import StateKey, configured_key
from reconciler.state.errors import StateConnectionError, StoreInUseError
from reconciler.state.keeper import LockKeeper
from reconciler.state.postgres_backend import PostgresBackend
from reconciler.state.reader import SqlStateReader
from reconciler.state.records import (
    ActivationRecord,
    DeferredUpdates,
    ImportExecution,
    JournalEntry,
    Lock,
    LockInfo,
    RemoteId,
    RemoteKind,
    RemoteList,
    RunRecord,
    RunStatus,
    SnapshotInfo,
)
from reconciler.state.schema import migrate
from reconciler.state.writer import SqlStateWriter

_S = TypeVar("_S", bound=SqlStateReader)
DEFAULT_STATE_PATH = Path(".reconciler") / "state.duckdb"
DEFAULT_POSTGRES_SCHEMA = "reconciler"


class StateReader(Closing, Protocol):
    @property
    def location(self) -> str: ...
    @property
    def key(self) -> StateKey | None: ...
    def schema_version(self) -> int: ...
    def activations(self) -> tuple[str, ...]: ...
    def activation_records(self) -> tuple[ActivationRecord, ...]: ...
    def serial(self, activation: str) -> int: ...
    def remote_ids(self, activation: str) -> tuple[RemoteId, ...]: ...
    def remote_id(self, activation: str, kind: RemoteKind, name: str = "") -> str | None: ...
    def snapshot_info(self, activation: str) -> SnapshotInfo | None: ...
    def stream_snapshot(
        self, activation: str, *, batch_rows: int = ...
    ) -> pa.RecordBatchReader: ...
    def copy_snapshot_into(
        self, activation: str, into: duckdb.DuckDBPyConnection, table: str,
        *, hashes: SnapshotHashes = ..., keys_from: str | None = ...,
    ) -> None: ...
    def runs(self, activation: str, *, limit: int = 20) -> tuple[RunRecord, ...]: ...
    def unfinished_runs(self, activation: str) -> tuple[RunRecord, ...]: ...
    def journal_entries(self, run_id: str) -> tuple[JournalEntry, ...]: ...
    def locks(self) -> tuple[LockInfo, ...]: ...
    def now(self) -> dt.datetime: ...
    def import_executions(
        self, account: str, profile_table: str, day: dt.date
    ) -> tuple[ImportExecution, ...]: ...
    def deferred_updates(self, run_id: str) -> DeferredUpdates | None: ...
    def notices(self, prefix: str = "") -> dict[str, dt.datetime]: ...
    def contact_index(self, index: str) -> IndexInfo | None: ...
    def contact_indexes_of(self, destination: str) -> list[IndexInfo]: ...
    def copy_contact_index_into(
        self, index: str, into: duckdb.DuckDBPyConnection, table: str) -> None: ...


class StateWriter(StateReader, Protocol):
    def set_remote_id(
        self, activation: str, kind: RemoteKind, remote_id: str, *, name: str = "",
        expect_serial: int | None = None,
    ) -> int: ...
    def remove_remote_id(
        self, activation: str, kind: RemoteKind, *, name: str = "",
        expect_serial: int | None = None,
    ) -> int: ...
    def record_activation(self, record: ActivationRecord) -> int: ...
    def forget_activation(self, activation: str) -> None: ...
    def write_snapshot(
        self, activation: str, batches: pa.RecordBatchReader | Iterable[pa.RecordBatch], *,
        taken_at: dt.datetime | None = None, expect_serial: int | None = None,
        hash_format: str | None = None, remote: RemoteList | None = None,
        members_known: bool = True,
    ) -> SnapshotInfo: ...
    def write_snapshot_from_duckdb(
        self, activation: str, conn: duckdb.DuckDBPyConnection, table: str, *,
        taken_at: dt.datetime | None = None, expect_serial: int | None = None,
        hash_format: str | None = None, remote: RemoteList | None = None,
        members_known: bool = True,
    ) -> SnapshotInfo: ...
    def start_run(self, activation: str, *, started_at: dt.datetime | None = None) -> str: ...
    def finish_run(
        self, run_id: str, status: RunStatus, *, counts: Mapping[str, int] | None = None,
        error: str | None = None, finished_at: dt.datetime | None = None,
    ) -> None: ...
    def acquire_lock(
        self, activation: str, owner: str, lease_seconds: float, *, wait_seconds: float = 0,
        pause: Callable[[float], None] = ..., expect_serial: int | None = None,
    ) -> Lock: ...
    def renew_lock(self, lock: Lock) -> Lock: ...
    def keep_lock(self, lock: Lock, *, every_seconds: float | None = None) -> LockKeeper: ...
    def release_lock(self, lock: Lock) -> None: ...
    def break_lock(self, activation: str) -> LockInfo | None: ...
    def journal_begin(
        self, run_id: str, activation: str, step: JournalStep, batch_no: int, rows: int,
        fingerprint: str,
    ) -> str: ...
    def journal_confirm(self, entry_id: str, confirmed_rows: int) -> None: ...
    def journal_fail(self, entry_id: str, error: str) -> None: ...
    def record_import_execution(self, execution: ImportExecution) -> None: ...
    def record_deferred_updates(self, deferred: DeferredUpdates) -> None: ...
    def claim_notice(self, notice: str, sent_at: dt.datetime) -> bool: ...
    def release_notice(self, notice: str) -> None: ...
    def rekey(self, old: StateKey | None, new: StateKey | None) -> int: ...

    def write_contact_index(
        self, info: IndexInfo, conn: duckdb.DuckDBPyConnection, table: str, *, full: bool,
    ) -> IndexInfo: ...


def is_postgres_location(location: str | Path) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")


def check_location(location: str, origin: str) -> str:
    """`location` when it can be a state store (a postgresql:// URL, or a DuckDB file in a
    directory that exists), else a StateConnectionError naming `origin` (the option or
    variable it came from): a mistyped URL or path must not open a new, empty store."""
    scheme = _SCHEME.match(location)
    if scheme is not None:
        if is_postgres_location(location):
            return location
        raise StateConnectionError(
            f"{origin}: unknown state store scheme {scheme.group(1)!r} in "
            f"{printable_url(location)}: give a DuckDB file path (e.g. "
            f"{DEFAULT_STATE_PATH}) or a postgresql://user@host/database URL")
    parent = Path(location).parent
    if not parent.is_dir():
        raise StateConnectionError(
            f"{origin}: the directory {parent} of the state file {location} does not exist: "
            "create it, or fix the path")
    return location


def describe_location(location: str | Path | None) -> str:
    """Where a store lives, for people: no credentials, a file as an absolute path."""
    if location is not None and is_postgres_location(location):
        url, schema = split_schema(str(location))
        return f"PostgreSQL {printable_url(url)} (schema {schema or DEFAULT_POSTGRES_SCHEMA})"
    path = Path(DEFAULT_STATE_PATH if location is None else location)
    return f"DuckDB file {path.resolve()}"


def split_schema(url: str) -> tuple[str, str | None]:
    """A PostgreSQL URL without its `schema` query parameter (ours, not libpq's), and it.

    `postgresql://host/db?schema=marketing` keeps the state in schema `marketing`, so several
    projects (or test runs) can share one database.
    """
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in params if name == "schema"]
    if not schemas:
        return url, None
    if len(schemas) > 1 or not schemas[0]:
        raise StateConnectionError(
            f"state store {printable_url(url)}: give one non-empty ?schema=NAME at most")
    rest = urlencode([(name, value) for name, value in params if name != "schema"])
    return urlunsplit(parts._replace(query=rest)), schemas[0]


def _backend(location: str | Path | None, schema: str, *, read_only: bool) -> Backend:
    location = DEFAULT_STATE_PATH if location is None else location
    if is_postgres_location(location):
        url, named = split_schema(str(location))
        return PostgresBackend(url, schema=named or schema, read_only=read_only)
    return DuckDBBackend(Path(location), read_only=read_only)


def exposed_state_files(location: str | Path | None) -> list[Path]:
    """The files of a DuckDB state that others may read (made by an older version or by hand;
    they hold member keys): the database, its write-ahead log and its lock file."""
    if location is None or is_postgres_location(location):
        return []
    path = Path(location)
    files = (path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".lock"))
    return [file for file in files if exposed(file)]


def open_state_reader(
    location: str | Path | None = None, *, schema: str = DEFAULT_POSTGRES_SCHEMA,
    copy_if_busy: bool = False, key: StateKey | None = None,
) -> StateReader:
    """A read-only view of the store; a store never written to reads as empty. A DuckDB file
    another process is writing is refused (`StoreInUseError`), or with `copy_if_busy` read
    from a copy taken now (its `location` says so): for looking, never for planning. `key`:
    its encryption key (default: the one configured for `location`, see encryption.py)."""
    key = key or configured_key(location)
    try:
        return _opened(_backend(location, schema, read_only=True), key, SqlStateReader)
    except StoreInUseError as exc:
        if not copy_if_busy or location is None or is_postgres_location(location):
            raise
        return _opened(DuckDBBackend.copy_of(Path(location), exc.holder), key, SqlStateReader)


def _opened(backend: Backend, key: StateKey | None, kind: type[_S]) -> _S:
    try:
        return kind(backend, key)
    except BaseException:
        backend.close()
        raise


def open_state_store(
    location: str | Path | None = None,
    *,
    schema: str = DEFAULT_POSTGRES_SCHEMA,
    migrate_to: int | None = None,
    key: StateKey | None = None,
) -> StateWriter:
    """The store for writing, created or migrated to the latest schema (or `migrate_to`);
    `key` as for `open_state_reader`."""
    backend = _backend(location, schema, read_only=False)
    try:
        if migrate_to is None:
            migrate(backend)
        else:
            migrate(backend, target=migrate_to)
    except BaseException:
        backend.close()
        raise
    return _opened(backend, key or configured_key(location), SqlStateWriter)
