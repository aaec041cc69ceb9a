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
