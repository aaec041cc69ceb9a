"""Selecting activations by label on every command that works on some of them, and the JSON
summaries of `apply` and `run --due` (one document on stdout, everything else on stderr)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import Stack

runner = CliRunner()
# Both scenarios are about the CLI's selection and output, not the state backend.
pytestmark = pytest.mark.parametrize("stack", ["duckdb"], indirect=True)


def test_labels_select_activations_on_plan_apply_and_status(stack: Stack) -> None:
    # Scenario: the example labels vip-selligent `team: crm`: `-l team=crm` plans, applies
    # (as one JSON summary) and shows it alone; a label nobody carries is an error naming
    # the labels in use, before anything is planned.
    plan = runner.invoke(app, ["plan", *stack.cli_args(), "-l", "team=crm"])
    assert plan.exit_code == 0, plan.output
    assert "# vip-selligent" in plan.stdout
    assert "churn-selligent" not in plan.stdout and "actito" not in plan.stdout

    applied = runner.invoke(app, ["apply", *stack.cli_args(), "--label", "team=crm",
                                  "--auto-approve", "--format", "json"])
    assert applied.exit_code == 0, applied.output
    summary = json.loads(applied.stdout)  # the document and nothing else
    assert "will perform the following actions" in applied.stderr  # the plan: stderr
    assert "vip-selligent: applied" in applied.stderr
    assert (summary["format_version"], summary["command"], summary["outcome"]) == (
        "1.0", "apply", "succeeded")
    assert summary["summary"]["applied"] == 1 and summary["summary"]["failed"] == 0
    [activation] = summary["activations"]
    assert activation["activation"] == "vip-selligent"
    assert (activation["verdict"], activation["outcome"]) == ("will-apply", "applied")
    assert activation["destination"] == "selligent-sandbox"
    planned, members = activation["planned"], activation["members"]
    assert planned["member_adds"] > 0 and planned["resources"] >= 1
    assert members["sent"] == members["applied"] == planned["member_adds"]
    assert activation["updates"]["sent"] == planned["profile_updates"]
    status = runner.invoke(app, ["status", *stack.cli_args(), "-l", "team=crm",
                                 "--format", "json"])
    assert status.exit_code == 0, status.output
    [shown] = json.loads(status.stdout)["activations"]
    assert shown["activation"] == "vip-selligent"
    assert shown["last_run"]["run_id"] == activation["run_id"]  # the run the summary named

    unknown = runner.invoke(app, ["plan", *stack.cli_args(), "-l", "team=crn"])
    assert unknown.exit_code == 1
    assert "Error: no activation has the labels team=crn" in unknown.output
    assert "Hint: labels in use: team=crm" in unknown.output
    out = stack.workdir / "plan.zip"
    assert runner.invoke(app, ["plan", *stack.cli_args(), "-a", "sms-actito", "--out",
                               str(out)]).exit_code == 0
    saved = runner.invoke(app, ["apply", str(out), "-l", "team=crm"])
    assert saved.exit_code == 1
    assert "-a/--activation, -l/--label and --refresh go to `reconciler plan --out`" in \
        saved.output


def test_run_due_json_summary_names_what_it_synced_and_skipped(stack: Stack) -> None:
    # Scenario: a team's cron job `run --due -l team=crm --format json`: the first tick syncs
    # vip-selligent only; five minutes later nothing is due and the document says when it
    # is; `apply --format json` without --auto-approve is refused (it cannot ask).
    start = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    first = runner.invoke(app, ["run", "--due", *stack.at(start).cli_args(), "-l", "team=crm",
                                "--format", "json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["command"], summary["outcome"], summary["skipped"]) == (
        "run", "succeeded", [])
    assert [a["activation"] for a in summary["activations"]] == ["vip-selligent"]
    assert summary["activations"][0]["run_id"]
    assert "sync vip-selligent: " in first.stderr and "churn" not in first.stderr

    later = start + dt.timedelta(minutes=5)
    quiet = runner.invoke(app, ["run", "--due", *stack.at(later).cli_args(), "-l",
                                "team=crm", "--format", "json"])
    assert quiet.exit_code == 0, quiet.output
    summary = json.loads(quiet.stdout)
    assert (summary["outcome"], summary["activations"]) == ("nothing-due", [])
    [skipped] = summary["skipped"]
    assert skipped["activation"] == "vip-selligent"
    assert dt.datetime.fromisoformat(skipped["next_due"]) > later
    assert "Nothing is due." in quiet.stderr

    asking = runner.invoke(app, ["apply", *stack.cli_args(), "--format", "json"])
    assert asking.exit_code == 1 and asking.stdout == ""
    assert "--format json applies without asking: add --auto-approve" in asking.stderr
