"""Progress of an apply: bars per activation on a terminal, plain lines elsewhere (CI logs).

Counts only (rows confirmed per step), never keys or values. Written to stderr, so the plan
and the results on stdout stay machine-readable.
"""
from __future__ import annotations

import os
import sys
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.status import Status

from reconciler.changes.journal import JournalStep
from reconciler.planning.steps import StepReporter


class ProgressReporter(Protocol):
    def start(self, activation: str, total_rows: int) -> None: ...
    def advance(self, activation: str, step: JournalStep, rows: int) -> None: ...
    def finish(self, activation: str, outcome: str) -> None: ...
    def close(self) -> None: ...


class SilentProgress:
    def start(self, activation: str, total_rows: int) -> None: ...
    def advance(self, activation: str, step: JournalStep, rows: int) -> None: ...
    def finish(self, activation: str, outcome: str) -> None: ...
    def close(self) -> None: ...


class LineProgress:
    """One line per confirmed batch and per finished activation (for CI logs)."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def start(self, activation: str, total_rows: int) -> None:
        self.done[activation], self.totals[activation] = 0, total_rows
        print(f"{activation}: applying {total_rows:,} row changes", file=sys.stderr, flush=True)

    def advance(self, activation: str, step: JournalStep, rows: int) -> None:
        self.done[activation] = self.done.get(activation, 0) + rows
        print(f"{activation}: {step.value.replace('_', ' ')} batch confirmed, {rows:,} rows "
              f"({self.done[activation]:,}/{self.totals.get(activation, 0):,})",
              file=sys.stderr, flush=True)

    def finish(self, activation: str, outcome: str) -> None:
        print(f"{activation}: finished, {outcome}", file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


class BarProgress:
    """A rich progress bar per activation (on an interactive terminal)."""

    def __init__(self) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True))
        self.tasks: dict[str, TaskID] = {}
        self.totals: dict[str, int] = {}
        self.progress.start()

    def start(self, activation: str, total_rows: int) -> None:
        self.totals[activation] = max(total_rows, 1)
        self.tasks[activation] = self.progress.add_task(activation, total=self.totals[activation])

    def advance(self, activation: str, step: JournalStep, rows: int) -> None:
        if activation in self.tasks:
            self.progress.update(self.tasks[activation], advance=rows,
                                 description=f"{activation} ({step.value.replace('_', ' ')})")

    def finish(self, activation: str, outcome: str) -> None:
        if activation in self.tasks:
            self.progress.update(self.tasks[activation], description=f"{activation}: {outcome}",
                                 completed=self.totals[activation])

    def close(self) -> None:
        self.progress.stop()


def progress_for_terminal() -> ProgressReporter:
    """Bars on an interactive terminal; plain lines in CI and when output is redirected."""
    if sys.stderr.isatty() and os.environ.get("CI", "").lower() != "true":
        return BarProgress()
    return LineProgress()


# Planning's steps (planning/steps.py), shown while `plan`, `apply` and `run` plan.
STEP_LINE_PREFIX = "· "  # lines a reader (or a test) can tell from the plan itself
SLOW_STEP_SECONDS = 2.0


def step_line(activation: str, step: str, seconds: float, detail: str) -> str:
    """`· activation: step: detail, 1.2 s`, as both reporters print a finished step."""
    found = f"{detail}, " if detail else ""
    return f"{STEP_LINE_PREFIX}{activation}: {step}: {found}{seconds:.1f} s"


class LineSteps:
    """One line per finished planning step, with its duration (CI logs, redirected output)."""

    def started(self, activation: str, step: str) -> None: ...

    def finished(self, activation: str, step: str, seconds: float, detail: str) -> None:
        print(step_line(activation, step, seconds, detail), file=sys.stderr, flush=True)


class TerminalSteps:
    """A transient spinner naming the running step; a step that took more than
    `SLOW_STEP_SECONDS` leaves a line with its duration (so a 24-s plan shows where the time
    went), the quick ones leave nothing."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.status: Status | None = None

    def started(self, activation: str, step: str) -> None:
        self._stop()
        self.status = self.console.status(f"{activation}: {step}…")
        self.status.start()

    def finished(self, activation: str, step: str, seconds: float, detail: str) -> None:
        self._stop()
        if seconds > SLOW_STEP_SECONDS:
            self.console.print(step_line(activation, step, seconds, detail), highlight=False)

    def _stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def plan_steps_for_terminal() -> StepReporter:
    """A spinner and the slow steps on an interactive terminal; every step as a line in CI
    and when stderr is redirected."""
    if sys.stderr.isatty() and os.environ.get("CI", "").lower() != "true":
        return TerminalSteps()
    return LineSteps()
