"""Actito's per-licence limits on our side (§3.4): at most 5 requests in flight and about 100
calls per minute, shared by every client of one licence in this process (retries: ../http.py)
and, when a ledger is shared (a PostgreSQL state: `../pacing.py`), by every process using it.

Documented (actito-evidence.md, limits table, [C]): 5 concurrent requests per licence (a 6th
gets 429) and 100 calls a minute per licence (not refused: throttled). Both are the licence's,
shared with every other integration: the manifest's `budgetShare` keeps ours under them
(factory.py). Across processes, in-flight calls hold one of the licence's shared slots (the
ledger's `in_flight`) and calls start on the ledger's evenly spaced schedule; in one process a
semaphore and a sliding window do the same.
A licence is identified by base URL + a hash of its API key (the key itself is never kept).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reconciler.destinations.pacing import Pacer, current_ledger


@dataclass(frozen=True)
class ActitoLimits:
    max_in_flight: int = 5
    calls_per_minute: float = 100.0
    window_seconds: float = 60.0


class LicenceGate:
    """A semaphore for the in-flight cap and a sliding-window pacer for the per-minute budget."""

    def __init__(self, limits: ActitoLimits, budget: str = "") -> None:
        self.limits = limits
        self.budget = budget  # the licence's name on a shared ledger (a hash)
        self._slots = threading.BoundedSemaphore(limits.max_in_flight)
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        # Only when a ledger is shared: its schedule spaces the calls of every process.
        self._shared = Pacer(limits.calls_per_minute / limits.window_seconds, budget=budget,
                             only_shared=True)

    def _pace(self) -> None:
        """Wait until one more call fits the budget of the last window, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                window = self.limits.window_seconds
                while self._sent and now - self._sent[0] >= window:
                    self._sent.popleft()
                if len(self._sent) < self.limits.calls_per_minute:
                    self._sent.append(now)
                    return
                wait = window - (now - self._sent[0])
            time.sleep(max(wait, 0.001))

    @contextmanager
    def slot(self) -> Iterator[None]:
        ledger = current_ledger() if self.budget else None
        with self._slots:
            if ledger is None:
                self._pace()
                yield
                return
            with ledger.in_flight(f"{self.budget}:in-flight", self.limits.max_in_flight):
                self._pace()
                self._shared.wait()
                yield


_GATES: dict[tuple[str, str], LicenceGate] = {}
_GATES_LOCK = threading.Lock()


def licence_gate(base_url: str, api_key: str, limits: ActitoLimits) -> LicenceGate:
    """The one gate of this licence in this process (the first caller's limits win)."""
    key = (base_url.rstrip("/").lower(), hashlib.sha256(api_key.encode()).hexdigest())
    with _GATES_LOCK:
        if key not in _GATES:
            budget = hashlib.sha256(f"actito {key[0]} {key[1]}".encode()).hexdigest()
            _GATES[key] = LicenceGate(limits, budget)
        return _GATES[key]
