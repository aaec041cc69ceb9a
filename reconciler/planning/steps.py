"""The steps of planning one activation, as they start and end, for whoever shows progress.

A plan of a large audience spends seconds in each step (reading the warehouse, reading the
destination's contacts and members); the CLI shows them (executing/progress.py), the rest of
the program passes `SILENT`. Names and counts only: never a key or a value.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


class StepReporter(Protocol):
    def started(self, activation: str, step: str) -> None: ...
    def finished(self, activation: str, step: str, seconds: float, detail: str) -> None: ...


class _Silent:
    def started(self, activation: str, step: str) -> None: ...
    def finished(self, activation: str, step: str, seconds: float, detail: str) -> None: ...


SILENT: StepReporter = _Silent()


@dataclass
class StepDetail:
    """What a step found, said when it ends (e.g. `5,000 rows`)."""

    text: str = ""


@dataclass
class Steps:
    """Times the steps of one activation and reports them; `monotonic` is injectable so
    tests need no sleep."""

    reporter: StepReporter
    activation: str
    monotonic: Callable[[], float] = field(default=time.monotonic)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[StepDetail]:
        detail = StepDetail()
        self.reporter.started(self.activation, name)
        began = self.monotonic()
        yield detail  # an error ends the step without a report: the plan says what failed
        self.reporter.finished(self.activation, name, self.monotonic() - began, detail.text)
