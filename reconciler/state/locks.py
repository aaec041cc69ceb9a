"""Apply locks: one apply per activation at a time, held with a lease.

Owns the `locks` table: a row per held lock (owner, token, since, lease expiry). Taking,
renewing, releasing and breaking a lock each run in the backend's exclusive section for that
activation (a PostgreSQL advisory transaction lock; on DuckDB the file lock plus a thread
lock), so two processes racing for one activation never both win. A lease that ran out means
the holder died or hung: the next taker takes it over. On DuckDB a dead holder is known at
once (the backend says so: a process that has the file is the only one that can hold a lock in
it), so the apply after a crash need not wait for the lease. Leases are measured on the store's
clock (the server's, for PostgreSQL), so machines with skewed clocks agree.

Taking a lock may check, in the same section, that the activation's state serial is still the
one a plan was made at: an apply refused for a stale plan never holds the lock, and one that
gets it knows no one wrote in between. Fencing: `check_fence`, run inside the exclusive
section of a write, refuses (`LockLostError`) a holder whose token is no longer the lock's or
whose lease ran out, so a paused holder cannot write after another took over. Must not know
what an apply does while it holds the lock.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from reconciler.state.backend import Backend
from reconciler.state.errors import LockedError, LockLostError, StaleStateError
from reconciler.state.records import Lock, LockInfo
from reconciler.state.schema import utc_aware

_COLUMNS = "activation, owner, acquired_at, renewed_at, expires_at"
_POLL_SECONDS = 0.25


def default_owner(command: str = "apply") -> str:
    """`apply by alice@ci-7 (pid 4242)`: a lock owner that says who to ask or what to kill."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{command} by {user}@{socket.gethostname()} (pid {os.getpid()})"


def read_locks(backend: Backend) -> tuple[LockInfo, ...]:
    rows = backend.query(f"SELECT {_COLUMNS} FROM locks ORDER BY activation")
    return tuple(_info(row) for row in rows)


def acquire(backend: Backend, activation: str, owner: str, lease_seconds: float,
            wait_seconds: float = 0, *, pause: Callable[[float], None] = time.sleep,
            expect_serial: int | None = None) -> Lock:
    """Take the activation's lock, waiting up to `wait_seconds` for a live holder (`pause`
    waits between tries: a test may act there instead). With `expect_serial`, the lock is
    taken only if the activation's state serial is that one, checked in the same section
    (`StaleStateError` otherwise, and no lock)."""
    if lease_seconds <= 0:
        raise ValueError(f"a lease must last more than 0 seconds (got {lease_seconds})")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return _try_acquire(backend, activation, owner, lease_seconds, expect_serial)
        except LockedError:
            if time.monotonic() >= deadline:
                raise
        pause(_POLL_SECONDS)


def _try_acquire(backend: Backend, activation: str, owner: str, lease_seconds: float,
                 expect_serial: int | None) -> Lock:
    token = uuid.uuid4().hex
    with backend.exclusive(activation):
        if expect_serial is not None:  # stale now, stale after any wait: refused at once
            rows = backend.query("SELECT serial FROM activations WHERE activation = ?",
                                 [activation])
            serial = int(rows[0][0]) if rows else 0
            if serial != expect_serial:
                raise StaleStateError(activation, expect_serial, serial)
        now = backend.now()
        holder = _holder(backend, activation)
        if (holder is not None and not holder.expired(utc_aware(now))
                and backend.holder_alive(activation) is not False):
            raise LockedError(holder)
        expires = now + dt.timedelta(seconds=lease_seconds)
        backend.execute("DELETE FROM locks WHERE activation = ?", [activation])
        backend.execute(
            "INSERT INTO locks (activation, owner, token, acquired_at, renewed_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [activation, owner, token, now, now, expires],
        )
        backend.note_lock(activation, utc_aware(expires))
    return Lock(activation, owner, token, lease_seconds, utc_aware(now), utc_aware(expires))


def renew(backend: Backend, lock: Lock) -> Lock:
    """Push the lease `lock.lease_seconds` past now; `LockLostError` if it is no longer ours."""
    with backend.exclusive(lock.activation):
        now = backend.now()
        expires = now + dt.timedelta(seconds=lock.lease_seconds)
        rows = backend.query(
            "UPDATE locks SET renewed_at = ?, expires_at = ? WHERE activation = ? AND token = ? "
            "RETURNING activation",
            [now, expires, lock.activation, lock.token],
        )
        if not rows:
            raise LockLostError(lock.activation, lock.owner, _holder(backend, lock.activation))
        backend.note_lock(lock.activation, utc_aware(expires))
    return Lock(lock.activation, lock.owner, lock.token, lock.lease_seconds, lock.acquired_at,
                utc_aware(expires))


def release(backend: Backend, lock: Lock) -> None:
    """Give the lock back; `LockLostError` if someone broke or took it over meanwhile."""
    with backend.exclusive(lock.activation):
        rows = backend.query(
            "DELETE FROM locks WHERE activation = ? AND token = ? RETURNING activation",
            [lock.activation, lock.token],
        )
        if not rows:
            raise LockLostError(lock.activation, lock.owner, _holder(backend, lock.activation))
        backend.note_lock(lock.activation, None)


def check_fence(backend: Backend, activation: str, token: str, owner: str) -> None:
    """Inside `backend.exclusive(activation)`: `LockLostError` unless `token` is the lock's
    and its lease has not run out (on the store's clock), so the write that follows is the
    holder's, and no one else's lock can start before it commits."""
    holder = _holder(backend, activation, token)
    if holder is None:
        raise LockLostError(activation, owner, _holder(backend, activation))
    if holder.expired(utc_aware(backend.now())):
        raise LockLostError(activation, owner, None, reason=(
            f"its lease ran out at {holder.expires_at:%Y-%m-%d %H:%M:%S} UTC without being "
            "renewed (another apply may have started)"))


def break_lock(backend: Backend, activation: str) -> LockInfo | None:
    """Remove the activation's lock whoever holds it; who held it (None: it was not locked)."""
    with backend.exclusive(activation):
        holder = _holder(backend, activation)
        backend.execute("DELETE FROM locks WHERE activation = ?", [activation])
        backend.note_lock(activation, None)
    return holder


def _holder(backend: Backend, activation: str, token: str | None = None) -> LockInfo | None:
    """Who holds the activation's lock (with `token`: only if that is its token)."""
    if token is None:
        rows = backend.query(f"SELECT {_COLUMNS} FROM locks WHERE activation = ?",
                             [activation])
    else:
        rows = backend.query(f"SELECT {_COLUMNS} FROM locks WHERE activation = ? AND token = ?",
                             [activation, token])
    return _info(rows[0]) if rows else None


def _info(row: tuple[Any, ...]) -> LockInfo:
    activation, owner, acquired_at, renewed_at, expires_at = row
    return LockInfo(str(activation), str(owner), utc_aware(acquired_at), utc_aware(renewed_at),
                    utc_aware(expires_at))
