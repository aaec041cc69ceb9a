"""Ctrl-C during an apply: said at once, the batch in flight journaled, the run recorded as
interrupted and its lock given back; what was done and how to resume printed; the next apply
converges."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.state import JournalStatus, RunStatus, open_state_reader
from tests.e2e.conftest import Stack
from tests.e2e.test_resume import RECONCILER, HeldLoad, _small_batches
from tests.timing import wait_until

runner = CliRunner()
ANNOUNCED = "Interrupted: stopping once the batches in flight are answered and recorded"


class Output:
    """A process's output lines as they come (read by a thread: the test never blocks)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        self.thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.thread.start()

    def text(self) -> str:
        return "".join(self.lines)


def test_ctrl_c_mid_write_reports_what_was_done_and_the_next_apply_converges(
        stack: Stack) -> None:
    # Scenario: SIGINT while churn-selligent's third Selligent load is in flight (the
    # sandbox holds it): the apply says at once that it stops after that batch; once it is
    # answered, it lists each activation's outcome and how to resume, exits 130, and leaves
    # the run interrupted, no batch pending and no lock. The next apply resumes and converges.
    _small_batches(stack)
    held = HeldLoad(3)
    stack.selligent.faults.before_answer = held
    process = subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CI": "true"})
    output = Output(process)
    try:
        wait_until(lambda: held.reached.is_set() or process.poll() is not None,
                   "the apply sent its third load or ended", timeout=120)
        assert held.reached.is_set(), output.text()
        process.send_signal(signal.SIGINT)
        wait_until(lambda: ANNOUNCED in output.text(), "the interruption was announced")
        assert process.poll() is None  # still waiting for the batch in flight
    finally:
        held.released.set()
        stack.selligent.faults.before_answer = None
    process.wait(timeout=120)
    output.thread.join(timeout=60)
    text = output.text()
    assert process.returncode == 130, text
    assert "Apply interrupted (Ctrl-C). What each activation got to:\n" in text
    assert "\n  churn-actito: applied" in text
    # The held load and those sent beside it (`concurrency` in flight) were answered first.
    batches = _confirmed_loads(stack.state)
    assert batches >= 3
    assert (f"\n  churn-selligent: interrupted — Ctrl-C during add members, after {batches} "
            f"batches confirmed ({40 * batches} rows of add members)\n") in text
    assert "\n  sms-actito: not attempted\n  vip-selligent: not attempted\n" in text
    assert ("To finish (churn-selligent, sms-actito, vip-selligent): run `reconciler apply` "
            "again") in text
    assert "Traceback" not in text
    _check_recorded(stack.state)
    resumed = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert resumed.exit_code == 0, resumed.output
    assert "Resuming after an interrupted apply of churn-selligent:" in resumed.output
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh", "--detailed-exitcode"])
    assert check.exit_code == 0, check.output


def _confirmed_loads(state: Path | str) -> int:
    with open_state_reader(state) as reader:
        [last] = reader.runs("churn-selligent", limit=1)
        return sum(e.step.value == "add_members" for e in reader.journal_entries(last.run_id))


def _check_recorded(state: Path | str) -> None:
    """The interrupted run is recorded as such, its journal holds no pending batch (the one in
    flight was confirmed), and no lock is left for the next apply to wait on."""
    with open_state_reader(state) as reader:
        [last] = reader.runs("churn-selligent", limit=1)
        assert last.status is RunStatus.INTERRUPTED and last.error is not None
        assert "Ctrl-C during add members" in last.error
        entries = reader.journal_entries(last.run_id)
        assert {e.status for e in entries} == {JournalStatus.CONFIRMED}
        assert reader.locks() == ()
        assert reader.unfinished_runs("churn-selligent") == ()
