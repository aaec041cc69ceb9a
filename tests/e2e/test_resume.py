"""An apply killed with SIGKILL mid-write is resumed by the next apply, which converges."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox.http import Request
from reconciler.state import RunStatus, open_state_reader
from tests.e2e.conftest import Stack
from tests.timing import wait_until

runner = CliRunner()
RECONCILER = Path(sys.executable).parent / "reconciler"


def _small_batches(stack: Stack) -> None:
    """Batches of 40 rows: the apply sends many Selligent loads, one after the other."""
    destinations = stack.manifests / "destinations.yaml"
    text = destinations.read_text("utf-8").replace("maxRowsPerLoad: 10000", "maxRowsPerLoad: 40")
    destinations.write_text(text, "utf-8")


class HeldLoad:
    """Holds the sandbox's `nth` Selligent data load before it is answered, until released:
    the apply is then provably mid-write, waiting for that answer."""

    def __init__(self, nth: int) -> None:
        self.nth, self.seen = nth, 0
        self.reached, self.released = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> None:
        if not request.path.endswith("/data/load"):
            return
        with self._lock:
            self.seen += 1
            mine = self.seen == self.nth
        if mine:
            self.reached.set()
            self.released.wait(60)


def _loads_logged(stack: Stack) -> int:
    return sum(e.path.endswith("/data/load") for e in stack.selligent.log.entries())


def _unlock_all(stack: Stack) -> None:
    with open_state_reader(stack.state) as reader:
        held = [lock.activation for lock in reader.locks()]
    assert held, "the killed apply held no lock"
    for activation in held:
        result = runner.invoke(app, ["state", "unlock", activation, "--state", str(stack.state)])
        assert result.exit_code == 0, result.output


def _apply_killed_at_load(stack: Stack, nth: int, *extra: str) -> None:
    """An apply (`extra`: its options) killed with SIGKILL while the sandbox holds its nth
    Selligent load; on PostgreSQL its lock is then broken, as people do for a dead apply."""
    baseline = _loads_logged(stack)
    held = HeldLoad(nth)
    stack.selligent.faults.before_answer = held
    process = subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "CI": "true"})
    try:
        wait_until(lambda: held.reached.is_set() or process.poll() is not None,
                   f"the apply sent its load #{nth} or ended", timeout=120)
        assert held.reached.is_set(), f"the apply ended without sending its load #{nth}"
        assert process.poll() is None, "the apply ended before the kill"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:  # a failed wait above: leave no apply running
            process.kill()
            process.wait(timeout=60)
        held.released.set()  # the held load is then answered (to nobody) and logged
    stack.selligent.faults.before_answer = None
    wait_until(lambda: _loads_logged(stack) >= baseline + nth,
               "the held load finished at the sandbox")
    assert process.returncode == -signal.SIGKILL
    if stack.on_postgres:  # the dead apply's lease holds until it runs out: break it, as
        _unlock_all(stack)  # the lock message tells people who know it is dead


# Where the kill lands is the backend-independent part: all three on DuckDB, one on PostgreSQL
# (the suite must stay under ten minutes on two cores).
@pytest.mark.parametrize(("stack", "nth"), [("duckdb", 1), ("duckdb", 4), ("duckdb", 9),
                                            ("postgresql", 4)], indirect=["stack"])
def test_kill_9_mid_write_then_apply_resumes_and_converges(stack: Stack, nth: int) -> None:
    # Scenario: SIGKILL while the nth Selligent load is in flight; the next apply says it
    # resumes and converges, with no member missing or extra (a refreshed plan is empty) and
    # the killed run marked interrupted. Fails if the kill did not land mid-apply.
    _small_batches(stack)
    _apply_killed_at_load(stack, nth)
    resumed = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert resumed.exit_code == 0, resumed.output
    assert "Resuming after an interrupted apply of" in resumed.output
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh", "--detailed-exitcode"])
    assert check.exit_code == 0, check.output
    assert check.stdout == "No changes. The destinations match the manifests.\n"
    reader = open_state_reader(str(stack.state))
    try:
        statuses = [run.status for name in reader.activations() for run in reader.runs(name)]
    finally:
        reader.close()
    assert RunStatus.RUNNING not in statuses and RunStatus.INTERRUPTED in statuses


def test_the_tools_own_writes_of_a_killed_apply_are_not_drift(stack: Stack) -> None:
    # Scenario: vip-selligent was applied; a wider segment adds members, and the apply is
    # killed after two loads were confirmed (written, never snapshotted). The plans that
    # follow (before and while resuming) read the list and say nothing was changed outside
    # this tool; after the resume the project is in sync.
    _small_batches(stack)
    vip = ("-a", "vip-selligent")
    first = runner.invoke(app, ["apply", *stack.cli_args(), *vip, "--auto-approve"])
    assert first.exit_code == 0, first.output
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 500"), "utf-8")
    _apply_killed_at_load(stack, 3, *vip)
    plan = runner.invoke(app, ["plan", *stack.cli_args(), *vip])
    assert plan.exit_code == 0, plan.output
    assert "Resuming after an interrupted apply of vip-selligent" in plan.output
    assert "outside this tool" not in plan.output and "Drift" not in plan.output, plan.output
    resumed = runner.invoke(app, ["apply", *stack.cli_args(), *vip, "--auto-approve"])
    assert resumed.exit_code == 0, resumed.output
    assert "outside this tool" not in resumed.output, resumed.output
    check = runner.invoke(app, ["plan", *stack.cli_args(), *vip, "--refresh",
                                "--detailed-exitcode"])
    assert check.stdout == "No changes. The destinations match the manifests.\n", check.output
