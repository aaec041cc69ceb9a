"""The contact index kept in the state (issue 14) against the Selligent sandbox: contacts deleted
and created outside the tool are seen by the next plan with the default `indexMaxAge`, and its
apply neither leaves a member out nor writes to a contact that does not exist."""
from __future__ import annotations

import csv
import datetime as dt
import json
from typing import Any

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox.seed import is_left_out
from tests.e2e.conftest import NOW, SEED, Stack, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
VIP = ("-a", "vip-selligent")


def _run(stack: Stack, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [args[0], *stack.cli_args(), *args[1:]])
    return result.exit_code, printed(result)


def _planned(stack: Stack, *extra: str) -> dict[str, Any]:
    code, text = _run(stack, "plan", *VIP, "--format", "json", *extra)
    assert code == 0, text
    return dict(json.loads(text)["activations"][0])


def _vip_left_out() -> list[str]:
    """Customers of the VIP segment (as its manifest says) the sandbox was seeded without."""
    with SEED.open(encoding="utf-8", newline="") as seed:
        return [row["customer_id"] for row in csv.DictReader(seed)
                if is_left_out(row["customer_id"]) and row["email_consent"] == "true"
                and float(row["lifetime_value"] or 0) >= 1000]


def _churn_outside(stack: Stack) -> tuple[int, int]:
    """Delete 0.5% of the list's contacts (half of them VIP members) and create as many (half
    VIP customers it lacked, half unknown to the warehouse), as other tools would."""
    store = stack.selligent.store
    with store.lock:
        table = store.organization("SANDBOX").list("CONTACTS")  # type: ignore[union-attr]
        segment = table.segment("VIP_customers")
        assert segment is not None
        ids = sorted(table.records)
        count = max(2, len(ids) // 200)
        members = [i for i in ids if i in segment.members][:count // 2]
        others = [i for i in ids if i not in segment.members][:count - len(members)]
        for record_id in members + others:
            table.delete(record_id)
        created = _vip_left_out()[:count // 2]
        for key in created + [f"Z{n:06d}" for n in range(count - len(created))]:
            table.insert({"EXTERNAL_ID": key})
        store.mark_changed()
    return count, len(created)


def test_contacts_deleted_and_created_outside_are_seen_by_the_next_plan(stack: Stack) -> None:
    # Scenario: after an apply (a full read of the contact index, kept in the state), 0.5% of
    # the contacts are deleted and 0.5% created at the destination outside the tool; an hour
    # later (well within the default indexMaxAge of 24h) the plan finds the created VIP
    # customers, the record count then shows deletions the index cannot explain, so it reads
    # the index in full: its match rate is the truth; its apply adds every existing member,
    # removes no contact that is gone and meets no unknown key; a plan reading everything
    # again afterwards has nothing to do.
    assert _run(stack, "apply", *VIP, "--auto-approve")[0] == 0
    first = _planned(stack)
    assert first["contact_index"]["source"] == "state"
    assert first["contact_index"]["read_at"].startswith(NOW.strftime("%Y-%m-%dT%H:%M"))
    changed, created_vip = _churn_outside(stack)
    assert changed >= 2 and created_vip >= 1
    stack.at(NOW + dt.timedelta(hours=1))
    planned = _planned(stack)
    index = planned["contact_index"]
    assert index["source"] == "full-read" and "deleted there" in index["reason"], index
    assert index["found"] >= created_vip
    assert planned["members"]["adds"] >= created_vip
    code, text = _run(stack, "apply", *VIP, "--auto-approve")
    assert code == 0, text
    runs = stack.state_sql("SELECT counts FROM runs WHERE activation = 'vip-selligent' "
                           "ORDER BY started_at DESC")
    assert json.loads(runs[0][0])["members_not_found"] == 0
    stack.at(NOW + dt.timedelta(hours=2))
    truth = _planned(stack, "--refresh-index", "--refresh-members")
    assert truth["contact_index"]["source"] == "full-read"
    assert (truth["members"]["adds"], truth["members"]["removes"]) == (0, 0)
    assert truth["members"]["matched"] == planned["members"]["matched"]
    assert abs(truth["members"]["match_rate"] - planned["members"]["match_rate"]) <= 0.001


def test_a_truncated_read_fails_the_plan_and_keeps_the_index(stack: Stack) -> None:
    # Scenario: records vanish while the list is read page by page (its pages end short of
    # the record count read first): the plan fails that activation, and the index kept in
    # the state is still the last full one, not a smaller one.
    assert _run(stack, "apply", *VIP, "--auto-approve")[0] == 0
    before = stack.state_sql("SELECT keys, read_at FROM contact_index")
    store = stack.selligent.store
    vanished: list[int] = []

    def vanish(request: Any) -> None:
        if request.path.endswith("/data/search") and not vanished:
            with store.lock:
                table = store.organization("SANDBOX").list("CONTACTS")  # type: ignore[union-attr]
                vanished.extend(sorted(table.records)[:3])
                for record_id in vanished:
                    table.delete(record_id)

    stack.selligent.config.faults.before_answer = vanish
    stack.at(NOW + dt.timedelta(hours=1))
    code, text = _run(stack, "plan", *VIP, "--refresh-index")
    assert code == 1 and "nothing is planned on a partial read" in text, text
    assert vanished and stack.state_sql("SELECT keys, read_at FROM contact_index") == before
