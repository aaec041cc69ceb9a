"""Ctrl-C during `apply` and `run`: said at once, then what was done and how to resume.

The first Ctrl-C says that the apply stops once the batches in flight are answered and
journaled (a second one stops at once: the journal's pending entries then tell the next apply
which outcomes to check). The executor records the activation it was writing as interrupted
and gives its lock back; this module prints each activation's outcome and the way on:
`reconciler apply` again, which plans the interrupted ones against the destination's actual
membership. Exit code 130, as for any process stopped by SIGINT.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import NoReturn, TypeVar

import typer

from reconciler.executing.outcomes import ActivationResult, ApplyInterrupted, Outcome

INTERRUPTED_EXIT = 130  # 128 + SIGINT
T = TypeVar("T")


@contextlib.contextmanager
def stopping_on_ctrl_c() -> Iterator[None]:
    """While writing: the first Ctrl-C is announced before the batches in flight finish."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only (e.g. a test runner's worker)
        return

    def first(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        typer.echo("\nInterrupted: stopping once the batches in flight are answered and "
                   "recorded (Ctrl-C again to stop at once).", err=True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interruptible(write: Callable[[], T], describe: Callable[[ActivationResult], str],
                  then: Callable[[list[ActivationResult]], None] | None = None) -> T:
    """`write()` (an apply), or on Ctrl-C the report of what it did, `then(results)` (the
    JSON summary of `--format json`), and exit 130."""
    try:
        with stopping_on_ctrl_c():
            return write()
    except ApplyInterrupted as stop:
        report_interruption(stop.results, describe, then)


def report_interruption(results: list[ActivationResult],
                        describe: Callable[[ActivationResult], str],
                        then: Callable[[list[ActivationResult]], None] | None = None
                        ) -> NoReturn:
    typer.echo("Apply interrupted (Ctrl-C). What each activation got to:")
    for result in results:
        typer.echo(f"  {describe(result)}")
    cut = [r.activation for r in results if r.outcome is Outcome.INTERRUPTED]
    left = [r.activation for r in results if r.outcome is Outcome.NOT_ATTEMPTED]
    todo = ", ".join(cut + left) or "nothing"
    typer.echo(f"To finish ({todo}): run `reconciler apply` again (a fresh plan: a saved one "
               "is stale now). Every batch sent is in the journal, and the next plan reads the "
               "interrupted activations' actual membership at the destination, so it converges.")
    if then is not None:
        then(results)
    raise typer.Exit(INTERRUPTED_EXIT)
