"""Time in tests: wait for a condition, never for a fixed time; move clocks instead of sleeping.

A test that sleeps a fixed time hopes something has happened by then: slow on a fast machine,
flaky on a busy one. `wait_until` polls the condition and fails, naming it, only when it has
not come true within a generous deadline. `ShiftedClock` runs with the machine's clock and
jumps when the test says (a token or a file "expires" without waiting for it).
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """The first truthy value of `condition()`; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        pause.wait(0.01)


class ShiftedClock:
    """The machine's time plus what the test has advanced: `now()` for a `reconciler.clock`
    Clock, `seconds()` for code that measures durations."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.offset)

    def seconds(self) -> float:
        return time.monotonic() + self.offset


class StepClock:
    """A monotonic clock (seconds) moved only by the test; counts its readings."""

    def __init__(self) -> None:
        self.now, self.readings = 1000.0, 0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.readings += 1
            return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        """A client's sleep: recorded in `slept`, and the clock moves by it."""
        self.slept.append(seconds)
        self.advance(seconds)

    def wait_for_readings(self, count: int) -> None:
        """Until the clock has been read `count` times (e.g. a server admitted a request)."""
        wait_until(lambda: self.readings >= count, f"the clock was read {count} times")
