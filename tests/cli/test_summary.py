"""The JSON summary of `apply` and `run --due`: its shape, and stdout kept for it alone."""
from __future__ import annotations

import json
import sys

import pytest
import typer

from reconciler.cli.interrupts import report_interruption
from reconciler.cli.summary import (
    RunOutcome,
    Skipped,
    SummaryFormat,
    stdout_for,
    summary_document,
    write_document,
)
from reconciler.destinations.base import WriteResult
from reconciler.executing.outcomes import ActivationResult, Outcome


@pytest.mark.parametrize(("outcomes", "expected"), [
    ([Outcome.APPLIED, Outcome.UNCHANGED], RunOutcome.SUCCEEDED),
    ([Outcome.APPLIED, Outcome.STOPPED], RunOutcome.FAILED),
    ([Outcome.FAILED, Outcome.NOT_ATTEMPTED], RunOutcome.FAILED),
    ([Outcome.APPLIED, Outcome.INTERRUPTED, Outcome.NOT_ATTEMPTED], RunOutcome.INTERRUPTED),
    ([], RunOutcome.SUCCEEDED),
])
def test_the_outcome_follows_the_exit_code(outcomes: list[Outcome],
                                           expected: RunOutcome) -> None:
    # Scenario: each row is the activations' outcomes and the command's outcome as a whole.
    results = [ActivationResult(f"a{i}", outcome) for i, outcome in enumerate(outcomes)]
    document = summary_document("apply", None, results)
    assert document["outcome"] == expected.value
    assert sum(document["summary"].values()) == len(outcomes)


def test_an_interrupted_run_still_prints_its_document_then_exits_130(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario: Ctrl-C during `run --due --format json`: the human report goes to stderr, the
    # document (outcome interrupted, confirmed rows so far, the skipped activations) to stdout.
    results = [ActivationResult("vip-selligent", Outcome.INTERRUPTED,
                                members=WriteResult(4000, 2000), run_id="r1"),
               ActivationResult("sms-actito", Outcome.NOT_ATTEMPTED)]
    skipped = [Skipped("churn-actito", "next due 2026-11-02 08:00 UTC",
                       "2026-11-02T08:00:00+00:00")]
    with pytest.raises(typer.Exit) as stopped, stdout_for(SummaryFormat.JSON) as stdout:
        report_interruption(results, lambda r: r.activation, lambda done: write_document(
            stdout, summary_document("run", None, done, outcome=RunOutcome.INTERRUPTED,
                                     skipped=skipped)))
    assert stopped.value.exit_code == 130
    printed = capsys.readouterr()
    assert "Apply interrupted (Ctrl-C)" in printed.err and "To finish" in printed.err
    document = json.loads(printed.out)
    assert document["outcome"] == "interrupted"
    assert [(a["activation"], a["outcome"], a["run_id"]) for a in document["activations"]] == [
        ("vip-selligent", "interrupted", "r1"), ("sms-actito", "not attempted", None)]
    assert document["activations"][0]["members"] == {"sent": 4000, "applied": 2000,
                                                     "not_found": 0}
    assert document["skipped"] == [{"activation": "churn-actito",
                                    "reason": "next due 2026-11-02 08:00 UTC",
                                    "next_due": "2026-11-02T08:00:00+00:00"}]


def test_text_mode_leaves_stdout_alone(capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario: without --format json nothing is redirected.
    with stdout_for(SummaryFormat.TEXT) as stdout:
        print("plan text")
        assert stdout is sys.stdout
    assert capsys.readouterr().out == "plan text\n"
