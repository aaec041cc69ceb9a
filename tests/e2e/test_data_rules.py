"""Data rules against both sandboxes: a match key on two warehouse rows (`duplicateKeys`)."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from reconciler.masking import mask_value
from tests.e2e.conftest import Stack, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
VIP = ["-a", "vip-selligent"]


def _run(stack: Stack, command: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [command, *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def _vip_plan(stack: Stack, *extra: str) -> dict[str, Any]:
    code, text = _run(stack, "plan", *VIP, "--format", "json", *extra)
    assert code == 0, text
    activation: dict[str, Any] = json.loads(text)["activations"][0]
    return activation


def _adapter(stack: Stack) -> SelligentAdapter:
    return SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                            list_api_name="CONTACTS", api_key="sandbox-key",
                            api_secret="sandbox-secret")


def _vip_members(stack: Stack) -> list[str]:
    with _adapter(stack) as adapter:
        return [key for page in adapter.iter_segment_member_keys("VIP_customers", "EXTERNAL_ID")
                for key in page]


def _first_names(stack: Stack) -> dict[str, str]:
    with _adapter(stack) as adapter:
        return {str(row[0]): row[1] for page in adapter.iter_contacts("EXTERNAL_ID", ["FIRSTNAME"])
                for row in page}


def _customers(stack: Stack) -> Path:
    return stack.manifests / "data" / "customers.csv"


def _add_second_row(stack: Stack, key: str, first_name: str) -> str:
    """Append a second row for customer `key` with another first name; the file as before."""
    before = _customers(stack).read_text("utf-8")
    [row] = [r for r in csv.DictReader(before.splitlines()) if r["customer_id"] == key]
    row["first_name"] = first_name
    _customers(stack).write_text(before + ",".join(row.values()) + "\n", "utf-8")
    return before


def _set_in_vip(stack: Stack, setting: str) -> None:
    activation = stack.manifests / "activations" / "vip-selligent.yaml"
    text = activation.read_text("utf-8")
    activation.write_text(text.replace("  warnings:", f"  {setting}\n  warnings:", 1), "utf-8")


def test_a_member_on_two_warehouse_rows_keeps_its_state(stack: Stack) -> None:
    # Scenario (issue 15): after an apply, the warehouse briefly holds two rows for a VIP
    # member. By default the member is neither removed nor updated; the plan warns with
    # counts and a masked key; apply keeps it in the list; once the warehouse is clean again
    # nothing is left to do.
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    key = _vip_members(stack)[0]
    clean = _add_second_row(stack, key, "Impostor")
    plan = _vip_plan(stack, "--detailed-exitcode")  # exit 0: no change at all
    assert (plan["members"]["adds"], plan["members"]["removes"], plan["members"]["held"]) == (
        0, 0, 1)
    assert plan["attributes"]["updates"] == 0
    assert plan["data_issues"] == [{"kind": "duplicate key", "count": 2,
                                    "samples": [mask_value(key)]}]
    assert any(w.startswith(f"1 match key is on more than one row of the audience (2 rows) "
                            f"(e.g. {mask_value(key)}): duplicateKeys is keep")
               for w in plan["warnings"])
    code, text = _run(stack, "plan", *VIP)
    assert "! 2 rows not synced: duplicate key" in text and key not in text
    assert _run(stack, "apply", *VIP, "--auto-approve")[0] == 0
    assert key in _vip_members(stack)
    refreshed = _vip_plan(stack, "--refresh")
    assert (refreshed["members"]["removes"], refreshed["members"]["held"]) == (0, 1)
    _customers(stack).write_text(clean, "utf-8")
    code, text = _run(stack, "plan", *VIP, "--detailed-exitcode")
    assert (code, text) == (0, "No changes. The destinations match the manifests.\n")


def test_first_syncs_the_row_whose_values_sort_first(stack: Stack) -> None:
    # Scenario: duplicateKeys first: of a member's two rows the one whose mapped values sort
    # first (FIRSTNAME, then LTV) is synced, wherever it is in the file.
    _set_in_vip(stack, "duplicateKeys: first")
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    key = _vip_members(stack)[0]
    clean = _add_second_row(stack, key, "Zzz")  # sorts after the real first name
    plan = _vip_plan(stack, "--detailed-exitcode")
    assert (plan["members"]["removes"], plan["attributes"]["updates"]) == (0, 0)
    assert plan["data_issues"] == [{"kind": "duplicate key (first row kept)", "count": 1,
                                    "samples": [mask_value(key)]}]
    _customers(stack).write_text(clean, "utf-8")
    _add_second_row(stack, key, "Aaa")  # sorts before it
    code, text = _run(stack, "plan", *VIP, "--detailed-exitcode")
    assert code == 2 and "~ profiles 1 contacts: FIRSTNAME, LTV" in text, text
    assert _run(stack, "apply", *VIP, "--auto-approve")[0] == 0
    assert _first_names(stack)[key] == "Aaa" and key in _vip_members(stack)


def test_fail_plans_nothing_for_the_activation(stack: Stack) -> None:
    # Scenario: duplicateKeys fail in the Selligent destination's defaults: vip-selligent
    # cannot be planned (an error with counts and a masked key) and writes nothing; the
    # others apply.
    destinations = stack.manifests / "destinations.yaml"
    text = destinations.read_text("utf-8")
    destinations.write_text(text.replace("    schedule: {every: 1h}\n",
                                         "    schedule: {every: 1h}\n    duplicateKeys: fail\n",
                                         1), "utf-8")
    rows = csv.DictReader(_customers(stack).read_text("utf-8").splitlines())
    key = next(r["customer_id"] for r in rows
               if float(r["lifetime_value"]) >= 1000 and r["email_consent"] == "true")
    _add_second_row(stack, key, "Impostor")
    code, text = _run(stack, "apply", "--auto-approve")
    assert code == 1, text
    assert (f"! cannot plan: activation 'vip-selligent': 1 match key (customer_id) is on more "
            f"than one row of the audience (2 rows; e.g. {mask_value(key)}) and duplicateKeys "
            "is fail") in text
    assert key not in text
    assert "Apply complete: 3 applied, 1 failed or stopped." in text
    with _adapter(stack) as adapter:
        assert adapter.read_segment("VIP_customers") is None  # nothing written for it


def test_a_bad_cell_is_a_bad_row_whose_member_keeps_its_state(stack: Stack) -> None:
    # Scenario (issue 15): after an apply, `abc` in the lifetime_value of a customer who is in
    # the churn and SMS audiences, a column the example's Source declares decimal. Every
    # activation over customers shows one bad source row, masked; the customer, whose data
    # cannot be read, stays in the lists it is in (nothing to apply); the VIP segment still
    # compares numbers; the bad value is never printed.
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    text = _customers(stack).read_text("utf-8")
    victim = next(r for r in csv.DictReader(text.splitlines())
                  if r["customer_id"] == "C000002")  # 189.55: churn and SMS, not VIP
    line = ",".join(victim.values())
    _customers(stack).write_text(text.replace(line, line.replace(
        f",{victim['lifetime_value']},", ",abc,", 1), 1), "utf-8")
    code, plan = _run(stack, "plan", "--detailed-exitcode")
    assert code == 0, plan  # no change: the customer is held where it is
    issue = "! 1 rows not synced: bad source row (customers.lifetime_value: not a decimal) e.g. ***"
    assert plan.count(issue) == 4, plan  # both models read customers
    held = "! warning: 1 match key is on bad source rows (a value unfit for its declared type"
    assert plan.count(held) == 4, plan
    assert "abc" not in plan and "C000002" not in plan and "cannot plan" not in plan
    _customers(stack).write_text(text, "utf-8")
    assert _run(stack, "plan", "--detailed-exitcode") == (
        0, "No changes. The destinations match the manifests.\n")
