"""Keeping an apply lock alive during a long apply: a thread that renews its lease.

Owns `LockKeeper`: a daemon thread, on its own connection to the store (so it never runs
inside the executor's transactions nor waits for them), renews the lease every third of it.
The executor calls `check()` between batches: it raises `LockLostError` once the lock was
broken or taken over, or once the lease ran out without a successful renewal (e.g. the store
was unreachable), so an apply never goes on writing without its lock. Must not release the
lock: the writer does, after the keeper stopped.
"""
from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Self

from reconciler.state.backend import Backend
from reconciler.state.errors import LockLostError, StateError
from reconciler.state.locks import renew
from reconciler.state.records import Lock


class LockKeeper:
    def __init__(self, backend: Backend, lock: Lock, every_seconds: float | None = None) -> None:
        self._backend = backend
        self._lock = lock
        self._every = every_seconds if every_seconds is not None else lock.lease_seconds / 3
        self._deadline = time.monotonic() + lock.lease_seconds  # local clock: no skew
        self._stop = threading.Event()
        self._lost: LockLostError | None = None
        self._last_error: StateError | None = None
        self._thread = threading.Thread(target=self._run, name=f"lease:{lock.activation}",
                                        daemon=True)

    @property
    def lock(self) -> Lock:
        """The lock as last renewed."""
        return self._lock

    def check(self) -> None:
        """Raise `LockLostError` if the lock is no longer safely ours; call between batches."""
        if self._lost is not None:
            raise self._lost
        if time.monotonic() >= self._deadline:
            cause = f" ({self._last_error})" if self._last_error else ""
            raise LockLostError(self._lock.activation, self._lock.owner, None,
                                reason=f"its lease ran out without being renewed{cause}")

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._every):
                try:
                    asked = time.monotonic()
                    self._lock = renew(self._backend, self._lock)
                    self._deadline = asked + self._lock.lease_seconds
                    self._last_error = None
                except LockLostError as exc:
                    self._lost = exc
                    return
                except StateError as exc:  # the store may come back before the lease ends
                    self._last_error = exc
        finally:
            self._backend.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
