"""An apply killed with SIGKILL at a random point is resumed by the next apply, which converges."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.state import RunStatus, open_state_reader
from tests.e2e.conftest import Stack

runner = CliRunner()
RECONCILER = Path(sys.executable).parent / "reconciler"


def _slow_down(stack: Stack) -> None:
    """Small batches and added latency: the apply takes a few seconds, in many batches."""
    destinations = stack.manifests / "destinations.yaml"
    text = destinations.read_text("utf-8").replace("maxRowsPerLoad: 10000", "maxRowsPerLoad: 40")
    destinations.write_text(text, "utf-8")
    stack.selligent.faults.latency_ms = 25


def _wait_for_first_write(stack: Stack, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(e.path.endswith("/data/load") for e in stack.selligent.log.entries()):
            return
        time.sleep(0.02)
    raise AssertionError("the apply never started writing")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_a_random_point_then_apply_converges(stack: Stack, seed: int) -> None:
    # Scenario: SIGKILL during a large apply; the next apply resumes and converges, with no
    # member missing or extra (a refreshed plan is empty) and the killed run marked interrupted.
    _slow_down(stack)
    process = subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "CI": "true"})
    _wait_for_first_write(stack, process)
    time.sleep(random.Random(seed).uniform(0.0, 1.5))  # somewhere in the writes
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    resumed = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert resumed.exit_code == 0, resumed.output
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh", "--detailed-exitcode"])
    assert check.exit_code == 0, check.output
    assert check.output == "No changes. The destinations match the manifests.\n"
    reader = open_state_reader(str(stack.state))
    try:
        statuses = [run.status for name in reader.activations() for run in reader.runs(name)]
        assert RunStatus.RUNNING not in statuses
        # Killed between two runs (or after the last) nothing is interrupted; mid-run, the next
        # apply must have said it resumed.
        if killed and RunStatus.INTERRUPTED in statuses:
            assert "Resuming after an interrupted" in resumed.output
    finally:
        reader.close()
