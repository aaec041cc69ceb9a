"""Actito's per-licence limits on our side (§3.4): at most 5 requests in flight and about 100
calls per minute, shared by every client of one licence in this process (retries: ../http.py).

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


@dataclass(frozen=True)
class ActitoLimits:
    max_in_flight: int = 5
    calls_per_minute: float = 100.0
    window_seconds: float = 60.0


class LicenceGate:
    """A semaphore for the in-flight cap and a sliding-window pacer for the per-minute budget."""

    def __init__(self, limits: ActitoLimits) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_in_flight)
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()

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
        with self._slots:
            self._pace()
            yield


_GATES: dict[tuple[str, str], LicenceGate] = {}
_GATES_LOCK = threading.Lock()


def licence_gate(base_url: str, api_key: str, limits: ActitoLimits) -> LicenceGate:
    """The one gate of this licence in this process (the first caller's limits win)."""
    key = (base_url.rstrip("/").lower(), hashlib.sha256(api_key.encode()).hexdigest())
    with _GATES_LOCK:
        if key not in _GATES:
            _GATES[key] = LicenceGate(limits)
        return _GATES[key]
