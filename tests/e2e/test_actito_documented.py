"""Issue 13's acceptance: the example's Actito activations (lists 501 and 502 and ETL 601 set up
in the portal, keys read from the daily export) plan, apply and converge against a sandbox that
answers 501 to every route no public source documents, and its request log shows only
documented routes."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from reconciler.cli.app import app
from tests.e2e.conftest import Stack, printed
from tests.timing import wait_until

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
ACTITO = ("-a", "churn-actito", "-a", "sms-actito")


@pytest.mark.actito_documented_only
def test_the_example_needs_no_undocumented_actito_route(stack: Stack) -> None:
    planned = runner.invoke(app, ["plan", *stack.cli_args(), *ACTITO, "--format", "json"])
    assert planned.exit_code == 0, printed(planned)
    document = json.loads(printed(planned))
    assert [a["inferred_operations"] for a in document["activations"]] == [[], []]
    assert all(a["error"] is None for a in document["activations"])
    applied = runner.invoke(app, ["apply", *stack.cli_args(), *ACTITO, "--auto-approve"])
    assert applied.exit_code == 0, printed(applied)
    store = stack.actito.store
    wait_until(lambda: store.target_lists["501"]["lastFileName"] is not None
               and store.target_lists["502"]["lastFileName"] is not None,
               "the sandbox reads both key files")
    assert len(store.target_lists["501"]["memberIds"]) == document["activations"][0][
        "members"]["matched"]
    code = runner.invoke(app, ["plan", *stack.cli_args(), *ACTITO, "--detailed-exitcode"])
    assert code.exit_code == 0, printed(code)
    assert stack.actito.undocumented_requests() == []
    assert any("/etls/601/trigger-execution" in e.path for e in stack.actito.log.entries())
    status = runner.invoke(app, ["status", *stack.cli_args()])
    assert "pickup is not confirmed" in printed(status)


@pytest.mark.actito_documented_only
def test_a_portal_list_gets_its_file_again_before_it_expires(stack: Stack) -> None:
    # Scenario: no documented read tells a portal list's file has expired: the state does.
    # A day and a half after the apply (churn-actito: valid 2d, daily schedule) the plan drops
    # the key file again (a few members also enter as the 180-day condition moves on); apply
    # writes a second file.
    assert runner.invoke(app, ["apply", *stack.cli_args(), *ACTITO,
                               "--auto-approve"]).exit_code == 0
    later = stack.at(stack.clock.now() + dt.timedelta(hours=36))
    code = runner.invoke(app, ["plan", *later.cli_args(), "-a", "churn-actito",
                               "--detailed-exitcode"])
    text = printed(code)
    assert code.exit_code == 2, text
    assert '~ external target list "Churn risk" (drop its key file again)' in text
    assert "expires at" in text
    files = lambda: sorted(p.name for p in stack.actito.ftps.root.glob("churn_risk_*.zip"))  # noqa: E731
    before = files()
    applied = runner.invoke(app, ["apply", *later.cli_args(), "-a", "churn-actito",
                                  "--auto-approve"])
    assert applied.exit_code == 0, printed(applied)
    assert len(files()) == len(before) + 1
    assert stack.actito.undocumented_requests() == []
