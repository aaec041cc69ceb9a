"""Safety: a mass removal is stopped before any write, and two applies never write at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import Stack
from tests.e2e.test_resume import HeldLoad, _small_batches

runner = CliRunner()
RECONCILER = Path(sys.executable).parent / "reconciler"
WRITES = ("/data/load", "/data")


def _writes(stack: Stack) -> int:
    return sum(1 for e in stack.selligent.log.entries()
               if e.method in ("POST", "DELETE") and e.path.endswith(WRITES))


def test_half_the_members_removed_is_stopped_without_the_flag(stack: Stack) -> None:
    # Scenario: a segment edit would remove most of vip-selligent's members (maxRemovalRatio
    # 0.1): `plan --detailed-exitcode` exits 3 and calls it blocked; apply stops it before
    # writing; --allow-mass-removal lets it through.
    assert runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"]).exit_code == 0
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 2000"), "utf-8")
    planned = runner.invoke(app, ["plan", *stack.cli_args(), "--detailed-exitcode",
                                  "--format", "json"])
    assert planned.exit_code == 3, planned.output  # changes, but a guard will stop one
    verdicts = {a["activation"]: a["verdict"] for a in json.loads(planned.stdout)["activations"]}
    assert verdicts == {"vip-selligent": "blocked", "churn-selligent": "no-changes",
                        "churn-actito": "no-changes", "sms-actito": "no-changes"}
    before = _writes(stack)
    stopped = runner.invoke(app, ["apply", *stack.cli_args(), "-a", "vip-selligent",
                                  "--auto-approve"])
    assert stopped.exit_code == 1, stopped.output
    assert "! stop: removes" in stopped.output and "over maxRemovalRatio 10%" in stopped.output
    assert "vip-selligent: stopped" in stopped.output and "--allow-mass-removal" in stopped.output
    assert _writes(stack) == before  # nothing was written
    allowed = runner.invoke(app, ["apply", *stack.cli_args(), "-a", "vip-selligent",
                                  "--auto-approve", "--allow-mass-removal"])
    assert allowed.exit_code == 0, allowed.output
    check = runner.invoke(app, ["plan", *stack.cli_args(), "-a", "vip-selligent", "--refresh",
                                "--detailed-exitcode"])
    assert check.exit_code == 0, check.output


def test_a_second_apply_during_an_apply_fails_with_a_lock_message(stack: Stack) -> None:
    # Scenario: while one apply writes churn-selligent, another one on the same state is
    # refused with a message naming the holder (a DuckDB file: the whole store; PostgreSQL:
    # that activation, the others it may apply, and the first then refuses those as stale);
    # once both ended, one more apply converges.
    _small_batches(stack)
    held = HeldLoad(1)  # the first apply waits on its first load: provably mid-write
    stack.selligent.faults.before_answer = held
    first = subprocess.Popen([str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, "CI": "true"})
    try:
        assert held.reached.wait(120), "the first apply never wrote"
        second = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve",
                                     "--lock-timeout", "0"])
    finally:
        held.released.set()
    output, _ = first.communicate(timeout=120)
    assert second.exit_code == 1, second.output
    if stack.on_postgres:
        assert "churn-selligent: failed — activation 'churn-selligent' is locked by" in (
            second.output), second.output
        assert "another apply is running" in second.output
        assert first.returncode == 1, output
        assert "the state changed since this plan was made (another apply ran)" in output
        assert "churn-selligent: applied" in output
        again = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
        assert again.exit_code == 0, again.output
    else:
        assert first.returncode == 0, output
        assert "is in use by pid" in second.output, second.output
        assert "holding the apply lock of" in second.output
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh", "--detailed-exitcode"])
    assert check.exit_code == 0, check.output
