"""Client-side pacing: start at most N calls per second, shared by every thread of a writer.

Staying under a destination's request budget costs less than hitting 429s and waiting out
Retry-After. Calls start evenly spaced, `(1 + headroom) / N` seconds apart and never in a
burst, which stays within any limiter of N a second (a token bucket of any size, a sliding or
a fixed one-second window) as long as the server counts a call when we send it. The headroom
covers the difference between the two clocks: a call held up on its way (the network, a busy
server, a server that counts once the body has arrived) reaches the limiter closer to the next
one than it left. A 429 all the same means the server counts more strictly than that: each one
widens the spacing a little (`slow_down`, at most to twice the budget's), so such a server
costs a few retries in a run, not one every few calls.
"""
from __future__ import annotations

import hashlib
import threading
import time

HEADROOM = 0.02  # 2% under the budget: 20 ms of slack between calls at 1/s
SLOW_DOWN = 1.1  # each 429 widens the spacing by 10% …
MOST_SLOWED = 2.0  # … up to twice the budget's spacing


class Pacer:
    def __init__(self, per_second: float | None, headroom: float = HEADROOM) -> None:
        self.budget_interval = 1.0 / per_second if per_second else 0.0
        self.interval = self.budget_interval * (1.0 + headroom)
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

    def at_most(self, per_second: float, headroom: float = HEADROOM) -> None:
        """Pace no faster than `per_second` from now on (a stricter sharer joined)."""
        with self._lock:
            budget_interval = 1.0 / per_second
            if budget_interval > self.budget_interval:
                self.budget_interval = budget_interval
                self.interval = max(self.interval, budget_interval * (1.0 + headroom))

    def slow_down(self) -> None:
        """The server refused a call as over its rate (429): space the next ones wider."""
        with self._lock:
            self.interval = min(self.interval * SLOW_DOWN, self.budget_interval * MOST_SLOWED)


_SHARED: dict[str, Pacer] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacer(identity: str, per_second: float | None) -> Pacer:
    """The one pacer of a request budget in this process (e.g. a Selligent API key: every
    activation, observer and writer using it shares its budget). `identity` is hashed, so a
    key never sits in memory longer than its session; a second caller asking a slower pace
    slows everyone (the budget is the key's, the most careful setting wins)."""
    name = hashlib.sha256(identity.encode("utf-8")).hexdigest()
    with _SHARED_LOCK:
        pacer = _SHARED.get(name)
        if pacer is None:
            pacer = _SHARED[name] = Pacer(per_second)
        elif per_second:
            pacer.at_most(per_second)
        return pacer


def forget_shared_pacers() -> None:
    """Drop every shared pacer (tests: each starts with the budgets it sets)."""
    with _SHARED_LOCK:
        _SHARED.clear()
