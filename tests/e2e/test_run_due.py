"""`reconciler run --due` over both sandboxes with a frozen clock."""
from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import Stack

runner = CliRunner()


def _run_due(stack: Stack, now: dt.datetime) -> tuple[int, str]:
    result = runner.invoke(app, ["run", "--due", *stack.at(now).cli_args()])
    return result.exit_code, result.output


def test_run_due_syncs_only_what_is_due(stack: Stack) -> None:
    # Scenario: first tick syncs all; an hour later only the hourly ones; a day later all.
    start = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Brussels
    code, first = _run_due(stack, start)
    assert code == 0, first
    assert first.count("sync ") == 4 and ": applied" in first
    code, soon = _run_due(stack, start + dt.timedelta(minutes=5))
    assert code == 0 and "Nothing is due." in soon
    assert "skip vip-selligent: next due" in soon
    code, hourly = _run_due(stack, start + dt.timedelta(hours=1, minutes=1))
    assert code == 0, hourly
    synced = {line.split()[1].rstrip(":") for line in hourly.splitlines()
              if line.startswith("sync ")}
    assert synced == {"vip-selligent", "churn-selligent"}
    assert "No changes. The destinations match the manifests." in hourly
    assert "vip-selligent: unchanged" in hourly


def test_run_without_due_is_refused(stack: Stack) -> None:
    # Scenario: `run` alone is a mistake, said plainly.
    result = runner.invoke(app, ["run", *stack.cli_args()])
    assert result.exit_code == 1 and "needs --due" in result.output


def test_one_activation_applied_then_the_whole_project_plans_applies_and_runs(
        stack: Stack) -> None:
    # Scenario: a team applies one activation first (the others never applied, so the state
    # holds one snapshot beside none); then the whole project's plan, apply and `run --due`
    # work on every backend, and the project ends in sync.
    first = runner.invoke(app, ["apply", *stack.cli_args(), "-a", "vip-selligent",
                                "--auto-approve"])
    assert first.exit_code == 0, first.output
    plan = runner.invoke(app, ["plan", *stack.cli_args(), "--detailed-exitcode"])
    assert plan.exit_code == 2, plan.output  # changes: the three others
    assert "vip-selligent" not in plan.stdout and "churn-actito" in plan.stdout
    applied = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 3 applied, 0 failed or stopped." in applied.output
    code, due = _run_due(stack, stack.clock.now() + dt.timedelta(days=1))
    assert code == 0, due
    assert due.count("sync ") == 4, due  # a day on: every schedule is due (lists expired,
    assert "failed" not in due, due       # relative conditions moved)
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh", "--detailed-exitcode"])
    assert check.exit_code == 0, check.output
