"""The storage engine under the state store: the few primitives both backends provide.

Owns the contract between the engine-neutral store (`reader.py`, `writer.py`) and an engine:
running portable SQL (written with `?` placeholders), transactions, a schema lock for
migrations, exclusive sections for lock check-and-set, the clock leases are measured by, a
second connection for a lease-renewing thread, and the bulk paths for snapshots (Arrow in,
Arrow out, straight into a DuckDB table). Implementations: `duckdb_backend.py`,
`postgres_backend.py`.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from reconciler.state.records import SNAPSHOT_HASH, SNAPSHOT_KEY

SNAPSHOT_SEALED = "member_key_sealed"
"""In an encrypted store: the member key sealed (its `member_key` is then its keyed hash)."""
SNAPSHOT_SCHEMA = pa.schema([(SNAPSHOT_KEY, pa.string()), (SNAPSHOT_HASH, pa.string())])
SEALED_SCHEMA = SNAPSHOT_SCHEMA.append(pa.field(SNAPSHOT_SEALED, pa.string()))
SNAPSHOT_SELECT = (
    f"SELECT {SNAPSHOT_KEY}, {SNAPSHOT_HASH} FROM snapshots WHERE activation = ?"
)
SEALED_SELECT = (
    f"SELECT {SNAPSHOT_KEY}, {SNAPSHOT_HASH}, {SNAPSHOT_SEALED} FROM snapshots "
    "WHERE activation = ?"
)


def snapshot_select(sealed: bool) -> tuple[str, pa.Schema]:
    """The query reading an activation's snapshot rows (with the sealed keys or not) and the
    Arrow schema of its rows."""
    return (SEALED_SELECT, SEALED_SCHEMA) if sealed else (SNAPSHOT_SELECT, SNAPSHOT_SCHEMA)


class SnapshotHashes(enum.StrEnum):
    """How a snapshot copied into a diff carries its attribute hashes."""

    TEXT = "text"  # as stored
    DIGEST = "digest"  # as UBIGINT digests (NULL where the stored text is not one)
    UNKNOWN = "unknown"  # NULL (UBIGINT): hashes made another way, not comparable

    def projection(self) -> str:
        """The DuckDB SELECT list turning stored (member_key, attributes_hash) rows into it."""
        if self is SnapshotHashes.DIGEST:
            return f"{SNAPSHOT_KEY}, TRY_CAST({SNAPSHOT_HASH} AS UBIGINT) AS {SNAPSHOT_HASH}"
        if self is SnapshotHashes.UNKNOWN:
            return f"{SNAPSHOT_KEY}, CAST(NULL AS UBIGINT) AS {SNAPSHOT_HASH}"
        return f"{SNAPSHOT_KEY}, {SNAPSHOT_HASH}"


SEALED_PROJECTION = f"{SNAPSHOT_KEY}, {SNAPSHOT_HASH}, {SNAPSHOT_SEALED}"


class BackendKind(enum.StrEnum):
    DUCKDB = "duckdb"
    POSTGRES = "postgres"


class Backend(Protocol):
    kind: BackendKind
    location: str
    """Where the store lives, safe to print (no password)."""
    read_only: bool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def has_table(self, table: str) -> bool: ...

    def lock_schema(self) -> None:
        """Inside a transaction: keep concurrent processes from migrating at the same time."""
        ...

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """A transaction no other process or thread of this store enters for `name` at once."""
        ...

    def now(self) -> dt.datetime:
        """The store's clock as naive UTC: one clock for every machine sharing the store."""
        ...

    def reopen(self) -> Backend:
        """Another connection to the same store (for another thread), writable like this one."""
        ...

    def note_lock(self, activation: str, expires_at: dt.datetime | None) -> None:
        """Say, for other processes' error messages, which apply locks this process holds
        (None: released). DuckDB keeps it in its lock file; PostgreSQL needs nothing."""
        ...

    def holder_alive(self, activation: str) -> bool | None:
        """Whether the process holding the activation's lock row lives, where the backend can
        tell (DuckDB: only the process that has the file can); None: only the lease tells."""
        ...

    def insert_snapshot(self, activation: str, reader: pa.RecordBatchReader) -> int:
        """Bulk-insert (member_key, attributes_hash) rows for `activation`; the row count."""
        ...

    def stream_snapshot(self, activation: str, batch_rows: int,
                        sealed: bool = False) -> pa.RecordBatchReader:
        """The snapshot's rows; `sealed`: with the sealed keys (an encrypted store's)."""
        ...

    def copy_snapshot_into(
        self, activation: str, into: duckdb.DuckDBPyConnection, table: str,
        hashes: SnapshotHashes, sealed: bool = False,
    ) -> None:
        """Create (or replace) temp table `table` in `into` with the activation's snapshot
        (`sealed`: its three columns as stored, `hashes` ignored)."""
        ...

    def reclaim(self) -> None:
        """Outside a transaction: leave no copy of deleted or rewritten snapshot rows in the
        store's free space (after a rekey)."""
        ...

    def close(self) -> None: ...


def snapshot_has_hash(schema: pa.Schema) -> bool:
    """Check a snapshot stream's columns: a key is required, a hash optional (NULL then)."""
    if SNAPSHOT_KEY not in schema.names:
        raise ValueError(f"a snapshot stream needs a {SNAPSHOT_KEY!r} column (got {schema.names})")
    return SNAPSHOT_HASH in schema.names
