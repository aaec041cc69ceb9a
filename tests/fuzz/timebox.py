"""A hard time limit for one generated case: a hang fails the test instead of stalling CI.

Hypothesis's `deadline` only judges an example once it returns; this alarm interrupts one
that never does (Python code only: a C call finishes first). Main thread, POSIX only, which
is where the suite runs (pytest-xdist runs each worker's tests on its main thread).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class CaseTimedOut(AssertionError):
    """A generated case ran past its time box (an AssertionError: a test failure)."""


@contextmanager
def time_box(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signal: int, _frame: FrameType | None) -> None:
        raise CaseTimedOut(f"a generated case ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
