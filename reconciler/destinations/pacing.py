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

Across processes (matrix jobs on one key, api/selligent.md §8: the budget is the key's), the
pacer takes its call slots from a `BudgetLedger` when one is shared (`share_budgets_with`: the
PostgreSQL state store's `request_budgets` table). The ledger hands out blocks of evenly spaced
slots on one schedule per budget, on its own clock, so every process together stays under the
budget; a process uses its block's slots in order and drops those it was too late for.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

log = logging.getLogger(__name__)

HEADROOM = 0.02  # 2% under the budget: 20 ms of slack between calls at 1/s
SLOW_DOWN = 1.1  # each 429 widens the spacing by 10% …
MOST_SLOWED = 2.0  # … up to twice the budget's spacing
BLOCK_SECONDS = 1.0  # slots claimed from a shared ledger at a time: about a second's worth


class BudgetLedger(Protocol):
    """One schedule of call slots per request budget, and shared in-flight slots, for every
    process using the ledger."""

    def claim(self, budget: str, count: int, interval: float) -> float | None:
        """Reserve `count` slots `interval` seconds apart on `budget`'s schedule: the seconds
        from now until the first, or None when the ledger cannot answer (pace locally)."""
        ...

    def in_flight(self, budget: str, limit: int) -> AbstractContextManager[None]:
        """Hold one of `limit` slots of `budget` while the block runs, waiting for one to be
        free (when the ledger cannot answer: hold nothing, the process's own cap applies)."""
        ...


_LEDGER: BudgetLedger | None = None


def share_budgets_with(ledger: BudgetLedger | None) -> None:
    """Take call slots from `ledger` from now on (None: each process paces on its own)."""
    global _LEDGER
    _LEDGER = ledger


def current_ledger() -> BudgetLedger | None:
    return _LEDGER


class Pacer:
    def __init__(self, per_second: float | None, headroom: float = HEADROOM, *,
                 budget: str = "", ledger: Callable[[], BudgetLedger | None] = current_ledger,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, only_shared: bool = False) -> None:
        self.budget_interval = 1.0 / per_second if per_second else 0.0
        self.interval = self.budget_interval * (1.0 + headroom)
        self.budget = budget  # the ledger's name for it (a hash: never a key)
        self._ledger = ledger
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._slots: deque[float] = deque()  # claimed from the ledger, in monotonic time
        self.only_shared = only_shared  # no ledger answering: no wait (the caller paces)
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this call may start."""
        if not self.interval:
            return
        with self._lock:
            now = self._monotonic()
            ledger = self._ledger() if self.budget else None
            shared = self._shared_slot(ledger, now) if ledger is not None else None
            if shared is not None:
                start = shared
            elif self.only_shared:
                return
            else:
                start = max(self._next, now)
                self._next = start + self.interval
        if start > now:
            self._sleep(start - now)

    def _shared_slot(self, ledger: BudgetLedger, now: float) -> float | None:
        """The next slot of this process's block, claiming a block when none is left; a slot
        more than one interval past is dropped (sending on it would crowd the next one)."""
        while self._slots and self._slots[0] < now - self.interval:
            self._slots.popleft()
        if not self._slots:
            count = max(1, int(BLOCK_SECONDS / self.interval))
            delay = ledger.claim(self.budget, count, self.interval)
            if delay is None:
                return None
            first = now + max(0.0, delay)
            self._slots.extend(first + i * self.interval for i in range(count))
        return max(self._slots.popleft(), now)

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
            pacer = _SHARED[name] = Pacer(per_second, budget=name)
        elif per_second:
            pacer.at_most(per_second)
        return pacer


def forget_shared_pacers() -> None:
    """Drop every shared pacer and the ledger (tests: each starts with the budgets it sets)."""
    with _SHARED_LOCK:
        _SHARED.clear()
    share_budgets_with(None)
