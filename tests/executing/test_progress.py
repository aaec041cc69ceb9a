"""How planning steps are shown: every step as a line off a terminal, slow ones on a terminal."""
from __future__ import annotations

import io
import itertools
import re

import pytest
from rich.console import Console

from reconciler.executing.progress import LineSteps, TerminalSteps
from reconciler.planning.steps import Steps


def test_off_a_terminal_every_step_is_one_line_with_its_duration(
        capsys: pytest.CaptureFixture[str]) -> None:
    ticks = itertools.count(0.0, 0.25)
    steps = Steps(LineSteps(), "vip-selligent", monotonic=lambda: next(ticks))
    with steps.step("reading the audience from source warehouse") as found:
        found.text = "1,234 rows"
    with steps.step("comparing"):
        pass
    assert capsys.readouterr().err == (
        "· vip-selligent: reading the audience from source warehouse: 1,234 rows, 0.2 s\n"
        "· vip-selligent: comparing: 0.2 s\n")


def test_on_a_terminal_only_steps_over_two_seconds_leave_a_line() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    times = iter([0.0, 0.5, 10.0, 14.5])  # a quick step, then a 4.5-s one
    steps = Steps(TerminalSteps(console), "churn-actito", monotonic=lambda: next(times))
    with steps.step("reading actito-sandbox's contacts"):
        pass
    with steps.step("reading the audience from source warehouse") as found:
        found.text = "2,000,000 rows"
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # the spinner's controls
    assert re.findall(r"· [^\r\n]*", shown) == [
        "· churn-actito: reading the audience from source warehouse: 2,000,000 rows, 4.5 s"]


def test_a_failing_step_reports_no_end() -> None:
    events: list[str] = []

    class Recorder:
        def started(self, activation: str, step: str) -> None:
            events.append(f"start {step}")

        def finished(self, activation: str, step: str, seconds: float, detail: str) -> None:
            events.append(f"end {step}")

    with pytest.raises(RuntimeError), Steps(Recorder(), "a").step("reading x"):
        raise RuntimeError("boom")
    assert events == ["start reading x"]
