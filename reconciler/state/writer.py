"""Writing the state store: remote ids, membership snapshots, run history and notices.

Owns every write and the state serial: each write bumps the activation's serial in the same
transaction, so a saved plan can tell that the state it read has changed; a caller may pass
`expect_serial` to refuse a write over someone else's. Snapshots are replaced wholesale in one
transaction through the backend's bulk path. Apply locks and the journal are written through
`locks.py` and `journal.py`, notices sent once through `notices.py` (none of them bumps a
serial: a plan does not read them). The executor uses this; the planner never does.

Fencing: while this store holds an activation's apply lock, every write of that activation's
state (remote ids, snapshot, runs, journal entries) runs in the lock's exclusive section, first
checks the lock is still this store's with a live lease (`LockLostError`, nothing written, if
not), and records the lock's token beside a snapshot, a run or a journal entry. A paused
holder whose lease lapsed cannot write once another apply took the lock over.
"""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from reconciler.arrow_streams import arrow_reader, as_reader, quote_duckdb
from reconciler.changes.journal import JournalStep
from reconciler.state import contactindex, imports, journal, locks, notices, sealed
from reconciler.state.backend import SNAPSHOT_SCHEMA, SNAPSHOT_SEALED, Backend
from reconciler.state.encryption import StateKey
from reconciler.state.errors import StaleStateError, StateError
from reconciler.state.keeper import LockKeeper
from reconciler.state.reader import SqlStateReader
from reconciler.state.records import (
    SNAPSHOT_HASH,
    SNAPSHOT_KEY,
    ActivationRecord,
    DeferredUpdates,
    ImportExecution,
    JournalStatus,
    Lock,
    LockInfo,
    RemoteKind,
    RemoteList,
    RunStatus,
    SnapshotInfo,
)
from reconciler.state.schema import utc_naive


def _now(moment: dt.datetime | None) -> dt.datetime:
    return utc_naive(moment or dt.datetime.now(dt.UTC))


class SqlStateWriter(SqlStateReader):
    """The read and write sides of a state store over either backend."""

    def __init__(self, backend: Backend, key: StateKey | None = None) -> None:
        super().__init__(backend, key)
        self._held: dict[str, Lock] = {}  # the apply locks this store took: fenced writes

    @contextmanager
    def _writing(self, activation: str, section: str | None = None) -> Iterator[str | None]:
        """A transaction writing `activation`'s state; the token of the lock fencing it (None:
        this store holds no lock of it; then in `section`'s exclusive section, if named)."""
        lock = self._held.get(activation)
        if lock is None:
            with self._backend.exclusive(section) if section else self._backend.transaction():
                yield None
            return
        with self._backend.exclusive(activation):
            locks.check_fence(self._backend, activation, lock.token, lock.owner)
            yield lock.token

    def _bump_serial(self, activation: str, expect_serial: int | None) -> int:
        """Inside a transaction: serial + 1 (or 1), checked against `expect_serial`."""
        rows = self._backend.query(
            "INSERT INTO activations (activation, serial, updated_at) VALUES (?, 1, ?) "
            "ON CONFLICT (activation) DO UPDATE SET serial = activations.serial + 1, "
            "updated_at = excluded.updated_at RETURNING serial",
            [activation, _now(None)],
        )
        serial = int(rows[0][0])
        if expect_serial is not None and serial != expect_serial + 1:
            raise StaleStateError(activation, expect_serial, serial - 1)
        return serial

    def set_remote_id(
        self,
        activation: str,
        kind: RemoteKind,
        remote_id: str,
        *,
        name: str = "",
        expect_serial: int | None = None,
    ) -> int:
        """Record the id a destination gave a list/segment/field/attribute; the new serial."""
        with self._writing(activation):
            serial = self._bump_serial(activation, expect_serial)
            self._backend.execute(
                "INSERT INTO remote_ids (activation, kind, name, remote_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (activation, kind, name) DO UPDATE "
                "SET remote_id = excluded.remote_id, updated_at = excluded.updated_at",
                [activation, kind.value, name, remote_id, _now(None)],
            )
        return serial

    def remove_remote_id(
        self, activation: str, kind: RemoteKind, *, name: str = "",
        expect_serial: int | None = None,
    ) -> int:
        with self._writing(activation):
            serial = self._bump_serial(activation, expect_serial)
            self._backend.execute(
                "DELETE FROM remote_ids WHERE activation = ? AND kind = ? AND name = ?",
                [activation, kind.value, name],
            )
        return serial

    def record_activation(self, record: ActivationRecord) -> int:
        """Remember what the activation was applied to (see `activation_records`); the serial."""
        with self._writing(record.activation):
            serial = self._bump_serial(record.activation, None)
            self._backend.execute(
                "INSERT INTO applied_activations (activation, destination, destination_type, "
                "target, remote_name, deletion_policy, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (activation) DO UPDATE SET destination = excluded.destination, "
                "destination_type = excluded.destination_type, target = excluded.target, "
                "remote_name = excluded.remote_name, "
                "deletion_policy = excluded.deletion_policy, updated_at = excluded.updated_at",
                [record.activation, record.destination, record.destination_type, record.target,
                 record.remote_name, record.deletion_policy, _now(record.updated_at)],
            )
        return serial

    def forget_activation(self, activation: str) -> None:
        """Drop an activation's state once its remote list is gone: its record, remote ids,
        snapshot and serial. Its run history and journal stay (what happened, for people)."""
        with self._writing(activation):
            for table in ("applied_activations", "remote_ids", "snapshots", "snapshot_info",
                          "activations"):
                self._backend.execute(f"DELETE FROM {table} WHERE activation = ?", [activation])

    def write_snapshot(
        self,
        activation: str,
        batches: pa.RecordBatchReader | Iterable[pa.RecordBatch],
        *,
        taken_at: dt.datetime | None = None,
        expect_serial: int | None = None,
        hash_format: str | None = None,
        remote: RemoteList | None = None,
        members_known: bool = True,
    ) -> SnapshotInfo:
        """Replace the activation's snapshot with these (member_key, attributes_hash) rows;
        `hash_format` says how the hashes were made (see `SnapshotInfo.hash_format`), `remote`
        which remote list they are the members of, `members_known` whether they are (False:
        imported from a list whose members cannot be read)."""
        reader = as_reader(batches, SNAPSHOT_SCHEMA)
        if self._key is not None and SNAPSHOT_SEALED not in reader.schema.names:
            reader = sealed.seal_batches(self._key, reader)
        taken = _now(taken_at)
        with self._writing(activation) as token:
            serial = self._bump_serial(activation, expect_serial)
            self._backend.execute("DELETE FROM snapshots WHERE activation = ?", [activation])
            members = self._backend.insert_snapshot(activation, reader)
            self._backend.execute(
                "INSERT INTO snapshot_info (activation, members, taken_at, serial, hash_format, "
                "remote_destination, remote_target, remote_name, remote_id, members_known, "
                "lock_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (activation) DO UPDATE SET "
                "members = excluded.members, taken_at = excluded.taken_at, "
                "serial = excluded.serial, hash_format = excluded.hash_format, "
                "remote_destination = excluded.remote_destination, "
                "remote_target = excluded.remote_target, remote_name = excluded.remote_name, "
                "remote_id = excluded.remote_id, members_known = excluded.members_known, "
                "lock_token = excluded.lock_token",
                [activation, members, taken, serial, hash_format,
                 remote.destination if remote else None, remote.target if remote else None,
                 remote.name if remote else None, remote.remote_id if remote else None,
                 members_known, token],
            )
        info = self.snapshot_info(activation)
        assert info is not None
        return info

    def write_snapshot_from_duckdb(
        self,
        activation: str,
        conn: duckdb.DuckDBPyConnection,
        table: str,
        *,
        taken_at: dt.datetime | None = None,
        expect_serial: int | None = None,
        hash_format: str | None = None,
        remote: RemoteList | None = None,
        members_known: bool = True,
    ) -> SnapshotInfo:
        """Replace the snapshot with the member_key/attributes_hash columns of a DuckDB table
        (hashes of any type are stored as their text); the rest as `write_snapshot`."""
        if self._key is not None:  # sealed, reusing what the plan sealed in `conn`
            reader = sealed.sealed_members(self._key, conn, table, activation)
        else:
            reader = arrow_reader(conn.sql(
                f"SELECT {SNAPSHOT_KEY}, CAST({SNAPSHOT_HASH} AS VARCHAR) AS {SNAPSHOT_HASH} "
                f"FROM {quote_duckdb(table)}"), 100_000)
        return self.write_snapshot(
            activation, reader, taken_at=taken_at,
            expect_serial=expect_serial, hash_format=hash_format, remote=remote,
            members_known=members_known,
        )

    def start_run(self, activation: str, *, started_at: dt.datetime | None = None) -> str:
        """Record a run as started (status running); its id."""
        # Ordered by creation (the real clock, in ns) then random: runs of the same
        # `started_at` (a stopped `--now` clock gives every run one moment) still sort in the
        # order they began, so "the last run" is the last one, not a random one.
        run_id = f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"
        with self._writing(activation) as token:
            self._bump_serial(activation, None)
            # A run without a lock (a refusal) leaves lock_token NULL, as older schemas do.
            fenced = ("", "") if token is None else (", lock_token", ", ?")
            self._backend.execute(
                f"INSERT INTO runs (run_id, activation, started_at, status, counts{fenced[0]}) "
                f"VALUES (?, ?, ?, ?, '{{}}'{fenced[1]})",
                [run_id, activation, _now(started_at), RunStatus.RUNNING.value,
                 *([] if token is None else [token])],
            )
        return run_id

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
        finished_at: dt.datetime | None = None,
    ) -> None:
        """Record how a run ended, with its counts (e.g. members added) and error message."""
        rows = self._backend.query("SELECT activation FROM runs WHERE run_id = ?", [run_id])
        if not rows:
            raise StateError(f"no run {run_id!r} in the state store {self.location}")
        activation = str(rows[0][0])
        with self._writing(activation):
            self._bump_serial(activation, None)
            self._backend.execute(
                "UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? "
                "WHERE run_id = ?",
                [status.value, _now(finished_at), json.dumps(dict(counts or {}), sort_keys=True),
                 error, run_id],
            )

    def acquire_lock(self, activation: str, owner: str, lease_seconds: float, *,
                     wait_seconds: float = 0,
                     pause: Callable[[float], None] = time.sleep,
                     expect_serial: int | None = None) -> Lock:
        """Take the activation's apply lock for `lease_seconds` (renew it before then); this
        store's writes of the activation are fenced by it until it is released.

        A lock whose lease ran out (on DuckDB also one whose holder died) is taken over. Held by
        someone else: `LockedError` naming them, after waiting up to `wait_seconds` for it
        (`pause` waits between tries; a test seam). With `expect_serial` (the serial a plan was
        made at), `StaleStateError` and no lock if the state moved since, checked atomically.
        """
        lock = locks.acquire(self._backend, activation, owner, lease_seconds, wait_seconds,
                             pause=pause, expect_serial=expect_serial)
        self._held[activation] = lock
        return lock

    def renew_lock(self, lock: Lock) -> Lock:
        """The lock with its lease pushed `lease_seconds` past now; `LockLostError` if lost."""
        renewed = locks.renew(self._backend, lock)
        if self._held.get(lock.activation, renewed).token == renewed.token:
            self._held[lock.activation] = renewed
        return renewed

    def keep_lock(self, lock: Lock, *, every_seconds: float | None = None) -> LockKeeper:
        """`with store.keep_lock(lock) as keeper:` renews the lease from a thread (on its own
        connection) every `every_seconds` (a third of the lease); `keeper.check()` between
        batches raises `LockLostError` once the lock is no longer safely held."""
        return LockKeeper(self._backend.reopen(), lock, every_seconds)

    def release_lock(self, lock: Lock) -> None:
        """Give the lock back; `LockLostError` if it was broken or taken over meanwhile."""
        if lock.activation in self._held and self._held[lock.activation].token == lock.token:
            del self._held[lock.activation]
        locks.release(self._backend, lock)

    def break_lock(self, activation: str) -> LockInfo | None:
        """Remove the activation's lock whoever holds it (a person's decision); who held it."""
        self._held.pop(activation, None)
        return locks.break_lock(self._backend, activation)

    def journal_begin(self, run_id: str, activation: str, step: JournalStep, batch_no: int,
                      rows: int, fingerprint: str) -> str:
        """Record a batch as pending before sending it; the entry id for confirm/fail. Under
        a lock no longer this store's: `LockLostError`, and the batch must not be sent."""
        with self._writing(activation, section=f"journal:{run_id}") as token:
            return journal.begin(self._backend, run_id, activation, step, batch_no, rows,
                                 fingerprint, token)

    def journal_confirm(self, entry_id: str, confirmed_rows: int) -> None:
        """Record that the destination confirmed `confirmed_rows` of the batch's rows."""
        self._journal_finish(entry_id, JournalStatus.CONFIRMED, confirmed_rows=confirmed_rows)

    def journal_fail(self, entry_id: str, error: str) -> None:
        """Record that the batch failed (refused, or given up after retries), and why."""
        self._journal_finish(entry_id, JournalStatus.FAILED, error=error)

    def _journal_finish(self, entry_id: str, status: JournalStatus, *,
                        confirmed_rows: int | None = None, error: str | None = None) -> None:
        with self._writing(journal.activation_of(self._backend, entry_id) or ""):
            journal.finish(self._backend, entry_id, status, confirmed_rows=confirmed_rows,
                           error=error)

    def record_import_execution(self, execution: ImportExecution) -> None:
        """Count a bulk import started (or refused by the destination) against its table's
        day."""
        imports.record_execution(self._backend, execution)

    def record_deferred_updates(self, deferred: DeferredUpdates) -> None:
        """Say that a run left its attribute updates for the next import slot."""
        imports.record_deferral(self._backend, deferred)

    def claim_notice(self, notice: str, sent_at: dt.datetime) -> bool:
        """Record the notice `notice` (an id made of names and dates, never a secret) as sent
        at `sent_at` unless it already was, atomically; whether this call recorded it (then
        the caller sends it, and calls `release_notice` if the delivery fails)."""
        return notices.claim(self._backend, notice, sent_at)

    def rekey(self, old: StateKey | None, new: StateKey | None) -> int:
        """Seal every snapshot again with `new` (None: decrypt), in one transaction; `old`
        is the store's key (None: a plain store). The number of members re-sealed."""
        members = sealed.rekey(self._backend, self._version, old, new)
        self._key = new
        self._backend.reclaim()  # the rows as they were stored must not linger
        return members

    def release_notice(self, notice: str) -> None:
        """Forget a claimed notice whose delivery failed, so the next run sends it again."""
        notices.release(self._backend, notice)

    def write_contact_index(self, info: contactindex.IndexInfo, conn: duckdb.DuckDBPyConnection,
                            table: str, *, full: bool) -> contactindex.IndexInfo:
        """Store a contact index read in full (`full`), or the keys checked since (see
        contactindex.write); bumps no serial."""
        return contactindex.write(self._backend, info, conn, table, full=full)
