"""Attribute drift: values changed at the Selligent sandbox are seen by `plan --refresh` and
restored by apply; `--refresh-members` reads the membership only."""
from __future__ import annotations

import json
import re
from typing import Any

from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import Stack, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
NO_CHANGES = "No changes. The destinations match the manifests.\n"
EDITED = 140


def _run(stack: Stack, *args: str) -> tuple[int, str]:
    command, rest = args[0], args[1:]
    result = runner.invoke(app, [command, *stack.cli_args(), *rest])
    return result.exit_code, printed(result)


def _edit_first_names(stack: Stack, count: int) -> dict[int, Any]:
    """Change FIRSTNAME of `count` Churn_risk members that are not VIP members, in the
    sandbox's store (as someone editing contacts in the Selligent UI); their old values."""
    store = stack.selligent.store
    with store.lock:
        table = store.organization("SANDBOX").list("CONTACTS")  # type: ignore[union-attr]
        churn, vip = table.segment("Churn_risk"), table.segment("VIP_customers")
        assert churn is not None and vip is not None
        chosen = sorted(churn.members - vip.members)[:count]
        assert len(chosen) == count
        old = {rid: table.records[rid]["FIRSTNAME"] for rid in chosen}
        for rid in chosen:
            table.update(rid, {"FIRSTNAME": "Edited by hand"})
        store.mark_changed()
    return old


def test_values_changed_at_the_destination_are_drift_that_apply_restores(stack: Stack) -> None:
    # Scenario: after an apply, 140 contacts' FIRSTNAME are changed at the destination: a
    # plain plan sees nothing, `plan --refresh` shows them as drift (and what the read
    # cost), `--refresh-members` does not read them, and `apply --refresh` restores them.
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    old = _edit_first_names(stack, EDITED)
    assert _run(stack, "plan", "--detailed-exitcode") == (0, NO_CHANGES)
    assert _run(stack, "plan", "--refresh-members", "--detailed-exitcode") == (0, NO_CHANGES)

    code, text = _run(stack, "plan", "-a", "churn-selligent", "--refresh", "--format", "json")
    assert code == 0, text
    planned = json.loads(text)["activations"][0]
    assert planned["drift"] == {"added_outside": 0, "removed_outside": 0,
                                "changed_outside": EDITED}
    assert planned["attributes"]["updates"] == EDITED
    read = planned["remote_read"]
    assert read["fields"] == ["FIRSTNAME"] and read["members"] == planned["members"]["matched"]
    assert read["calls"] >= 2  # the segment's details, then its pages with the values

    code, text = _run(stack, "plan", "--refresh", "--detailed-exitcode")
    assert code == 2, text
    assert (f"~ churn-selligent: attributes changed at the destination: {EDITED} contacts "
            "will get their values again") in text
    assert f"~ profiles {EDITED} contacts: FIRSTNAME" in text
    assert re.search(r"refresh  read [\d,]+ members with FIRSTNAME \(\d+ calls\)", text)
    assert "Edited by hand" not in text

    code, text = _run(stack, "apply", "--refresh", "--auto-approve")
    assert code == 0, text
    with stack.selligent.store.lock:
        table = stack.selligent.store.organization("SANDBOX").list("CONTACTS")  # type: ignore[union-attr]
        assert {rid: table.records[rid]["FIRSTNAME"] for rid in old} == old
    selligent = ("-a", "churn-selligent", "-a", "vip-selligent")
    assert _run(stack, "plan", *selligent, "--refresh", "--detailed-exitcode") == (0, NO_CHANGES)


def test_actito_attribute_drift_is_said_to_be_unobservable(stack: Stack) -> None:
    # Scenario: Actito lists no list's members: with --refresh, an activation with mapped
    # attributes says that values changed there are not seen (in the JSON, and as a note on
    # stderr: a plan without changes still says so); without --refresh, nothing is said.
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    churn = ("-a", "churn-actito")
    refreshed = runner.invoke(app, ["plan", *stack.cli_args(), *churn, "--refresh",
                                    "--format", "json"])
    assert refreshed.exit_code == 0, refreshed.output
    planned = json.loads(refreshed.stdout)["activations"][0]
    assert planned["warnings"] == [] and len(planned["unobserved"]) == 1
    assert "values changed there are not seen by --refresh" in planned["unobserved"][0]
    assert "Note: churn-actito: attribute drift at actito-sandbox is not observable" in \
        refreshed.stderr
    assert _run(stack, "plan", *churn, "--refresh", "--detailed-exitcode")[0] == 0
    plain = runner.invoke(app, ["plan", *stack.cli_args(), *churn, "--format", "json"])
    assert json.loads(plain.stdout)["activations"][0]["unobserved"] == []
    assert "not observable" not in plain.stderr
