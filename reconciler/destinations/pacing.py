"""Client-side pacing: start at most N calls per second, shared by every thread of a writer.

Staying under a destination's documented (or configured) request budget costs less than
hitting 429s and waiting out Retry-After.
"""
from __future__ import annotations

import threading
import time


class Pacer:
    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this call may start."""
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)
