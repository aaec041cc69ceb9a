"""Reading the state store: everything the planner is allowed to see.

Owns the read queries over the store's tables, identical for both backends (the lock and
journal rows are read through `locks.py` and `journal.py`). A store nothing
was written to yet reads as empty (no serial, no snapshot, no runs). Must not write: the
planner gets only this, so `plan` can never change the state.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pyarrow as pa

from reconciler.arrow_streams import load_reader_into
from reconciler.closing import Closing
from reconciler.state import contactindex, sealed
from reconciler.state.backend import SNAPSHOT_SCHEMA, Backend, SnapshotHashes
from reconciler.state.contactindex import IndexInfo
from reconciler.state.encryption import StateKey
from reconciler.state.errors import StateSchemaError
from reconciler.state.imports import read_deferral, read_executions
from reconciler.state.journal import read_entries
from reconciler.state.locks import read_locks
from reconciler.state.notices import read_notices
from reconciler.state.records import (
    ActivationRecord,
    DeferredUpdates,
    ImportExecution,
    JournalEntry,
    LockInfo,
    RemoteId,
    RemoteKind,
    RemoteList,
    RunRecord,
    RunStatus,
    SnapshotInfo,
)
from reconciler.state.schema import LATEST_VERSION, check_version, schema_version, utc_aware

DEFAULT_SNAPSHOT_BATCH_ROWS = 100_000
_RUN_COLUMNS = "run_id, activation, started_at, status, finished_at, counts, error"
_RECORD_COLUMNS = ("activation, destination, destination_type, target, remote_name, "
                   "deletion_policy, updated_at")


class SqlStateReader(Closing):
    """The read side of a state store over either backend."""

    def __init__(self, backend: Backend, key: StateKey | None = None) -> None:
        """`key`: the project's encryption key (None: none is configured); checked against
        the store's (see `sealed.check_key`)."""
        self._backend = backend
        self._version = schema_version(backend)
        check_version(self._version, backend.location)
        if backend.read_only and 0 < self._version < LATEST_VERSION:
            raise StateSchemaError(
                f"the state store {backend.location} has schema version {self._version}; "
                f"this reconciler needs {LATEST_VERSION}: any write (e.g. an apply) migrates it"
            )
        self._key = sealed.check_key(backend, key, self._version)

    @property
    def key(self) -> StateKey | None:
        """The key the store is encrypted with (None: a plain store)."""
        return self._key

    @property
    def location(self) -> str:
        return self._backend.location

    def schema_version(self) -> int:
        return self._version

    def _empty(self) -> bool:
        return self._version == 0

    def activations(self) -> tuple[str, ...]:
        """Every activation the store holds state for, sorted."""
        if self._empty():
            return ()
        rows = self._backend.query("SELECT activation FROM activations ORDER BY activation")
        return tuple(row[0] for row in rows)

    def activation_records(self) -> tuple[ActivationRecord, ...]:
        """What each activation was last applied to (destination, remote list, deletion
        policy), by activation: how to act on one once the manifests no longer define it."""
        if self._empty():
            return ()
        rows = self._backend.query(
            f"SELECT {_RECORD_COLUMNS} FROM applied_activations ORDER BY activation")
        return tuple(
            ActivationRecord(str(name), str(destination), str(kind), str(target), str(remote),
                             str(policy), utc_aware(updated_at))
            for name, destination, kind, target, remote, policy, updated_at in rows)

    def serial(self, activation: str) -> int:
        """The activation's state serial: 0 before its first write, +1 on every write."""
        if self._empty():
            return 0
        rows = self._backend.query(
            "SELECT serial FROM activations WHERE activation = ?", [activation]
        )
        return int(rows[0][0]) if rows else 0

    def remote_ids(self, activation: str) -> tuple[RemoteId, ...]:
        if self._empty():
            return ()
        rows = self._backend.query(
            "SELECT kind, remote_id, name FROM remote_ids WHERE activation = ? "
            "ORDER BY kind, name",
            [activation],
        )
        return tuple(RemoteId(RemoteKind(kind), remote_id, name) for kind, remote_id, name in rows)

    def remote_id(self, activation: str, kind: RemoteKind, name: str = "") -> str | None:
        for remote in self.remote_ids(activation):
            if remote.kind == kind and remote.name == name:
                return remote.remote_id
        return None

    def snapshot_info(self, activation: str) -> SnapshotInfo | None:
        """The last applied snapshot's size, time and serial; None before the first apply."""
        if self._empty():
            return None
        rows = self._backend.query(
            "SELECT members, taken_at, serial, hash_format, remote_destination, remote_target, "
            "remote_name, remote_id, members_known FROM snapshot_info WHERE activation = ?",
            [activation],
        )
        if not rows:
            return None
        members, taken_at, serial, hash_format, destination, target, name, remote_id, known = \
            rows[0]
        remote = (RemoteList(str(destination), str(target or ""), str(name), remote_id)
                  if destination is not None and name is not None else None)
        return SnapshotInfo(int(members), utc_aware(taken_at), int(serial), hash_format,
                            remote, known is not False)

    def stream_snapshot(
        self, activation: str, *, batch_rows: int = DEFAULT_SNAPSHOT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        """The snapshot's (member_key, attributes_hash) rows as lazy Arrow batches.

        Consume it before the next call on this store: a stream holds the connection.
        """
        if self._empty():
            return pa.RecordBatchReader.from_batches(SNAPSHOT_SCHEMA, iter(()))
        if self._key is not None:
            return sealed.open_batches(
                self._key, self._backend.stream_snapshot(activation, batch_rows, sealed=True))
        return self._backend.stream_snapshot(activation, batch_rows)

    def copy_snapshot_into(
        self, activation: str, into: duckdb.DuckDBPyConnection, table: str,
        *, hashes: SnapshotHashes = SnapshotHashes.TEXT, keys_from: str | None = None,
    ) -> None:
        """Create temp table `table` (member_key, attributes_hash) in `into` for a diff, its
        hashes as `hashes` says. `keys_from`: a table of `into` with the keys most members
        have (the desired audience's): an encrypted store's members are matched to them by
        keyed hash, and only the others' sealed keys are opened.

        The table exists even when there is no snapshot yet (then it is empty).
        """
        if self._empty():
            empty = pa.RecordBatchReader.from_batches(SNAPSHOT_SCHEMA, iter(()))
            load_reader_into(empty, into, table, select=hashes.projection())
            return
        if self._key is not None:
            sealed.copy_opened_into(self._backend, self._key, activation, into, table, hashes,
                                    keys_from)
            return
        self._backend.copy_snapshot_into(activation, into, table, hashes)

    def runs(self, activation: str, *, limit: int = 20) -> tuple[RunRecord, ...]:
        """The activation's most recent runs, newest first."""
        if self._empty():
            return ()
        rows = self._backend.query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE activation = ? "
            "ORDER BY started_at DESC, run_id DESC LIMIT ?",
            [activation, limit],
        )
        return tuple(_run_record(row) for row in rows)

    def unfinished_runs(self, activation: str) -> tuple[RunRecord, ...]:
        """The activation's runs that never finished (killed midway), oldest first."""
        if self._empty():
            return ()
        rows = self._backend.query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE activation = ? AND status = ? "
            "ORDER BY started_at, run_id",
            [activation, RunStatus.RUNNING.value],
        )
        return tuple(_run_record(row) for row in rows)

    def journal_entries(self, run_id: str) -> tuple[JournalEntry, ...]:
        """Every batch journaled by a run, in the order they were begun."""
        return () if self._empty() else read_entries(self._backend, run_id)

    def locks(self) -> tuple[LockInfo, ...]:
        """Every apply lock held now or left behind (see `LockInfo.expired`), by activation."""
        return () if self._empty() else read_locks(self._backend)

    def import_executions(self, account: str, profile_table: str,
                          day: dt.date) -> tuple[ImportExecution, ...]:
        """The bulk imports started (or refused) on a profile table on one UTC day."""
        if self._empty():
            return ()
        return read_executions(self._backend, account, profile_table, day)

    def deferred_updates(self, run_id: str) -> DeferredUpdates | None:
        """Whether a run left its attribute updates for a later import slot, and until when."""
        return None if self._empty() else read_deferral(self._backend, run_id)

    def notices(self, prefix: str = "") -> dict[str, dt.datetime]:
        """The notices sent once (see `SqlStateWriter.claim_notice`) whose id starts with
        `prefix`, by id, with when they were sent."""
        return {} if self._empty() else read_notices(self._backend, prefix)

    def contact_index(self, index: str) -> IndexInfo | None:
        """What the contact index `index` holds (see contactindex.py); None before a read,
        and always on an encrypted store, which keeps no contact index (its keys would be
        kept in the clear: each plan reads the destination's contacts in full instead)."""
        if self._empty() or self._key is not None:
            return None
        return contactindex.read_info(self._backend, index)

    def contact_indexes_of(self, destination: str) -> list[IndexInfo]:
        """The contact indexes kept for `destination` (none on an encrypted store)."""
        if self._empty() or self._key is not None:
            return []
        return contactindex.read_infos_of(self._backend, destination)

    def copy_contact_index_into(self, index: str, into: duckdb.DuckDBPyConnection,
                                table: str) -> None:
        """Temp table `table` (member_key, attributes_hash) in `into`: the index's keys."""
        if self._empty() or self._key is not None:
            empty = pa.RecordBatchReader.from_batches(SNAPSHOT_SCHEMA, iter(()))
            load_reader_into(empty, into, table)
            return
        contactindex.copy_into(self._backend, index, into, table)

    def now(self) -> dt.datetime:
        """The store's clock (UTC), which lock leases are measured by."""
        return utc_aware(self._backend.now())

    def close(self) -> None:
        self._backend.close()


def _run_record(row: tuple[Any, ...]) -> RunRecord:
    run_id, activation, started_at, status, finished_at, counts, error = row
    return RunRecord(
        run_id=str(run_id),
        activation=str(activation),
        started_at=utc_aware(started_at),
        status=RunStatus(status),
        finished_at=utc_aware(finished_at) if finished_at else None,
        counts=json.loads(str(counts)),
        error=str(error) if error is not None else None,
    )
