"""Issue 13's acceptance: two matrix processes on one PostgreSQL state apply the example's two
Actito activations at once against a sandbox with the licence's documented limits (5 requests
in flight, 100 calls a minute) and the destination's documented budget: no 429, at most 100
calls in any minute, and both converge."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli.app import app
from tests.e2e.conftest import REPO, UNPACED_CALLS_PER_MINUTE, Stack, printed

runner = CliRunner()
RECONCILER = Path(sys.executable).with_name("reconciler")
pytestmark = pytest.mark.slow  # ~97 calls at the licence's 100 a minute: over a minute


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_two_matrix_processes_keep_the_licence_limits_and_converge(stack: Stack) -> None:
    destinations = stack.manifests / "destinations.yaml"
    destinations.write_text(destinations.read_text("utf-8").replace(
        f"requestsPerMinute: {UNPACED_CALLS_PER_MINUTE}", "requestsPerMinute: 100"), "utf-8")
    stack.actito.faults.max_in_flight = 5
    stack.actito.faults.throttle_per_minute = 100
    jobs = [subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "-a", name,
         "--auto-approve"], cwd=REPO, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
        for name in ("churn-actito", "sms-actito")]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    entries = stack.actito.log.entries()
    assert entries and all(e.status != 429 for e in entries)
    assert max(e.in_flight for e in entries) <= 5
    starts = sorted(e.time for e in entries)
    busiest = max(sum(1 for t in starts if s <= t < s + 60) for s in starts)
    assert busiest <= 100
    planned = runner.invoke(app, ["plan", *stack.cli_args(), "-a", "churn-actito", "-a",
                                  "sms-actito", "--detailed-exitcode"])
    assert planned.exit_code == 0, printed(planned)
