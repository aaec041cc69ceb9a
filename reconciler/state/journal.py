"""The apply journal: every batch of an apply, recorded before it is sent and after.

Owns the `journal` table. `begin` records a batch as pending (its step, number, row count and
the caller's fingerprint of its rows) before the executor sends it; `confirm` or `fail`
records the outcome. A pending entry after a crash means the outcome is unknown: the resuming
apply must check it at the destination (or resend idempotently). Entries of a run keep their
order (`seq`), and a batch begun again in the same run is a new attempt beside the old one;
each entry keeps the token of the apply lock it was written under. The caller runs each call in
a transaction that keeps other writers of the run out (the writer's fenced section). Must not
decide how a run resumes: that is the executor's.
"""
from __future__ import annotations

import uuid
from typing import Any

from reconciler.changes.journal import JournalStep
from reconciler.state.backend import Backend
from reconciler.state.errors import StateError
from reconciler.state.records import JournalEntry, JournalStatus
from reconciler.state.schema import utc_aware

_COLUMNS = ("entry_id, run_id, activation, step, batch_no, attempt, row_count, fingerprint, "
            "status, started_at, confirmed_rows, error, finished_at")


def begin(backend: Backend, run_id: str, activation: str, step: JournalStep, batch_no: int,
          rows: int, fingerprint: str, lock_token: str | None) -> str:
    """Record a batch as pending, before it is sent; its entry id."""
    entry_id = uuid.uuid4().hex
    seq, attempt = backend.query(
        "SELECT coalesce(max(seq), 0) + 1, "
        "count(CASE WHEN step = ? AND batch_no = ? THEN 1 END) + 1 "
        "FROM journal WHERE run_id = ?",
        [step.value, batch_no, run_id],
    )[0]
    backend.execute(
        "INSERT INTO journal (entry_id, run_id, activation, step, batch_no, attempt, seq, "
        "row_count, fingerprint, status, started_at, lock_token) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, run_id, activation, step.value, batch_no, int(attempt), int(seq), rows,
         fingerprint, JournalStatus.PENDING.value, backend.now(), lock_token],
    )
    return entry_id


def activation_of(backend: Backend, entry_id: str) -> str | None:
    """The activation an entry belongs to (None: no such entry)."""
    rows = backend.query("SELECT activation FROM journal WHERE entry_id = ?", [entry_id])
    return str(rows[0][0]) if rows else None


def finish(backend: Backend, entry_id: str, status: JournalStatus, *,
           confirmed_rows: int | None = None, error: str | None = None) -> None:
    """Record a pending batch's outcome; a StateError for an unknown or finished entry."""
    rows = backend.query(
        "UPDATE journal SET status = ?, confirmed_rows = ?, error = ?, finished_at = ? "
        "WHERE entry_id = ? AND status = ? RETURNING entry_id",
        [status.value, confirmed_rows, error, backend.now(), entry_id,
         JournalStatus.PENDING.value],
    )
    if not rows:
        found = backend.query("SELECT status FROM journal WHERE entry_id = ?", [entry_id])
        state = f"it is already {found[0][0]}" if found else "there is no such entry"
        raise StateError(f"cannot record journal entry {entry_id} as {status.value}: {state}")


def read_entries(backend: Backend, run_id: str) -> tuple[JournalEntry, ...]:
    """A run's entries in the order they were begun."""
    rows = backend.query(f"SELECT {_COLUMNS} FROM journal WHERE run_id = ? ORDER BY seq",
                         [run_id])
    return tuple(_entry(row) for row in rows)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    (entry_id, run_id, activation, step, batch_no, attempt, rows, fingerprint, status,
     started_at, confirmed_rows, error, finished_at) = row
    return JournalEntry(
        entry_id=str(entry_id), run_id=str(run_id), activation=str(activation),
        step=JournalStep(step), batch_no=int(batch_no), attempt=int(attempt), rows=int(rows),
        fingerprint=str(fingerprint), status=JournalStatus(status),
        started_at=utc_aware(started_at),
        confirmed_rows=int(confirmed_rows) if confirmed_rows is not None else None,
        error=str(error) if error is not None else None,
        finished_at=utc_aware(finished_at) if finished_at is not None else None,
    )

