"""Saved plans as terraform users run them: `plan --out FILE` here, `apply FILE` there."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from tests.e2e.conftest import Stack, printed

runner = CliRunner()


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_a_plan_saved_from_a_relative_path_applies_elsewhere_without_a_question(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: `reconciler plan manifests --out saved.plan` from the repository, then
    # `reconciler apply ../saved.plan` from a subfolder, with nobody to answer a prompt: the
    # plan is not stale (paths are not fingerprinted as typed) and runs without asking.
    assert stack.manifests.parent == stack.workdir and stack.state == stack.workdir / "state.duckdb"
    monkeypatch.chdir(stack.workdir)
    now = ["--now", stack.clock.now().isoformat()]
    planned = runner.invoke(app, ["plan", "manifests", "--state", "state.duckdb", *now,
                                  "--out", "saved.plan"])
    assert planned.exit_code == 0, planned.output
    elsewhere = stack.workdir / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    applied = runner.invoke(app, ["apply", "../saved.plan", "--state", "../state.duckdb", *now],
                            input="")
    assert applied.exit_code == 0, applied.output
    assert "stale" not in applied.output and "Apply these changes?" not in applied.output
    assert "+ static segment VIP_customers" in applied.output  # what it applies is shown
    assert "Apply complete: 4 applied, 0 failed or stopped." in applied.output


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_a_stale_plan_names_every_change_since_it_was_made(stack: Stack) -> None:
    # Scenario: after `plan --out`, another apply runs one activation, a manifest and a
    # source file are edited and the VIP segment is created by hand at Selligent: applying
    # the saved plan is refused, naming each of them, and nothing is written.
    saved = stack.workdir / "saved.plan"
    assert runner.invoke(app, ["plan", *stack.cli_args(), "--out", str(saved)]).exit_code == 0
    other = runner.invoke(app, ["apply", *stack.cli_args(), "-a", "churn-selligent",
                                "--auto-approve"])
    assert other.exit_code == 0, other.output
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 900"), "utf-8")
    customers = stack.manifests / "data" / "customers.csv"
    customers.write_text(customers.read_text("utf-8") + "\n", "utf-8")
    with SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                          list_api_name="CONTACTS", api_key="sandbox-key",
                          api_secret="sandbox-secret") as adapter:
        adapter.create_static_segment("VIP_customers", "VIP customers", "")
    loads = len(stack.selligent.log.entries())
    refused = runner.invoke(app, ["apply", str(saved), "--state", str(stack.state)])
    text = printed(refused)
    assert refused.exit_code == 1, text
    assert f"Error: the saved plan {saved} is stale; since it was made:\n" in text
    assert "\n  - manifest segments.yaml changed\n" in text
    assert "\n  - source 'warehouse': file data/customers.csv changed\n" in text
    assert "\n  - the state of activation 'churn-selligent' moved from serial" in text
    assert ("\n  - the destination of activation 'vip-selligent' changed: what has to be "
            "created there (list, segment, fields)") in text
    assert "'vip-actito'" not in text and "'sms-actito'" not in text  # nothing else changed
    assert "Hint: run `reconciler plan --out` again" in text
    writes = [e for e in stack.selligent.log.entries()[loads:] if e.method != "GET"
              and not e.path.endswith(("/auth/token", "/data/search"))]
    assert writes == []
