"""Errors of the state store, for users to read.

    StateError                 anything that went wrong with the state store (a ReconcilerError)
    ├── StateConnectionError   the store (file or server) could not be opened
    ├── StateSchemaError       the store's schema is newer than this code, or too old to read
    ├── StaleStateError        a write expected another state serial (someone wrote first)
    └── LockError              an apply lock could not be had or kept
        ├── LockedError        another holder's lease on the activation has not run out
        ├── StoreInUseError    another process has the DuckDB state file open for writing
        └── LockLostError      this lock was broken or taken over: stop writing

Driver exceptions (duckdb, psycopg) never leave `state/`: they are chained as the cause.
"""
from __future__ import annotations

import datetime as dt

from reconciler.errors import ReconcilerError
from reconciler.state.records import LockInfo


class StateError(ReconcilerError):
    """A problem reading or writing the state store (the CLI prints it as `Error: …`)."""


class StateConnectionError(StateError):
    """The state store could not be opened."""

    hint = ("check the state location (--state, $RECONCILER_STATE_URL or the project file's "
            "`state`), that its server is running and that this machine may reach it; a "
            "password comes from PGPASSWORD or ~/.pgpass, never the URL")


class StateSchemaError(StateError):
    """The store's schema version is not one this code can use as it is."""


class StaleStateError(StateError):
    """The activation's state changed since the caller read it."""

    def __init__(self, activation: str, expected: int, found: int) -> None:
        super().__init__(
            f"activation {activation!r}: state serial is {found}, expected {expected}; "
            "someone else wrote its state since it was read (plan again)"
        )
        self.activation = activation
        self.expected = expected
        self.found = found


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


class LockError(StateError):
    """An apply lock could not be had or kept."""


class LockedError(LockError):
    """The activation is locked by someone whose lease has not run out."""

    def __init__(self, holder: LockInfo) -> None:
        super().__init__(
            f"activation {holder.activation!r} is locked by {holder.owner} since "
            f"{_clock(holder.acquired_at)} (lease until {_clock(holder.expires_at)}): another "
            "apply is running; wait for it, or if it died, wait for its lease to run out or "
            f"break the lock with `reconciler state unlock {holder.activation}`"
        )
        self.holder = holder


class StoreInUseError(LockError):
    """A DuckDB state file takes one writing process at a time, and another one has it."""

    def __init__(self, location: str, holder: str) -> None:
        super().__init__(
            f"the state store {location} is in use by {holder}; a DuckDB state file takes one "
            "writing process at a time: wait for it to finish (or use a PostgreSQL state "
            "store to apply activations in parallel)"
        )
        self.location = location
        self.holder = holder


class LockLostError(LockError):
    """A renew or release found the lock gone or held by someone else."""

    def __init__(self, activation: str, owner: str, now_held_by: LockInfo | None, *,
                 reason: str | None = None) -> None:
        by = reason or (
            f"is now held by {now_held_by.owner} since {_clock(now_held_by.acquired_at)}"
            if now_held_by else "was broken (no one holds it now)")
        super().__init__(
            f"{owner} lost the lock of activation {activation!r}: it {by}; stop writing "
            "and apply again"
        )
        self.activation = activation
        self.now_held_by = now_held_by
