"""The limits every fuzz test runs under: reproducible, and a hang is a failure.

`fuzz_settings` makes hypothesis derandomized (the same cases on every machine and run, no
example database written) with a per-case `deadline` far above a case's usual time (a slow
shared CI machine must not fail it). The deadline only judges a case once it returns:
`time_box` interrupts one that never does (Python code only: a C call finishes first). Main
thread, POSIX only, which is where the suite runs (pytest-xdist runs each worker's tests on
its main thread).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

from hypothesis import HealthCheck, settings

CASE_SECONDS = 30.0


def fuzz_settings(max_examples: int, deadline_seconds: float = 10.0) -> settings:
    return settings(derandomize=True, database=None, max_examples=max_examples,
                    deadline=timedelta(seconds=deadline_seconds),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


class CaseTimedOut(AssertionError):
    """A generated case ran past its time box (an AssertionError: a test failure)."""


@contextmanager
def time_box(seconds: float = CASE_SECONDS) -> Iterator[None]:
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
