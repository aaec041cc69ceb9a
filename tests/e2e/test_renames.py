"""Renaming an applied activation's audience: the plan replaces the list (`-/+`), never an
empty new list beside an unmanaged old one; apply fills the new list with every member, then
deletes the old one or keeps it as `deletionPolicy` says (the removal guards apply)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from tests.e2e.conftest import Stack, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
NO_CHANGES = "No changes. The destinations match the manifests.\n"


def _run(stack: Stack, command: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [command, *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def _selligent(stack: Stack) -> SelligentAdapter:
    return SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                            list_api_name="CONTACTS", api_key="sandbox-key",
                            api_secret="sandbox-secret")


def _segment_members(stack: Stack, api_name: str) -> set[str]:
    with _selligent(stack) as adapter:
        if adapter.read_segment(api_name) is None:
            return set()
        return {key for page in adapter.iter_segment_member_keys(api_name, "EXTERNAL_ID")
                for key in page}


def _rename(manifest: Path, old: str, new: str, *, delete: bool = False) -> None:
    text = manifest.read_text("utf-8").replace(f"audienceName: {old}", f"audienceName: {new}")
    assert new in text
    manifest.write_text(text + ("  deletionPolicy: delete\n" if delete else ""), "utf-8")


def _actito_list(stack: Stack, name: str) -> dict[str, object] | None:
    with stack.actito.store.lock:
        return next((dict(r) for r in stack.actito.store.target_lists.values()
                     if r["name"] == name), None)


def test_a_renamed_selligent_audience_replaces_its_segment_and_deletes_the_old(
        stack: Stack) -> None:
    # Scenario: churn-selligent is applied, then its audienceName is changed (with
    # deletionPolicy: delete): the plan shows a `-/+` replacement with the member count (not
    # "No changes"), apply creates the new segment with every member and deletes the old
    # one, and the next plans (plain and --refresh) have no changes.
    assert _run(stack, "apply", "-a", "churn-selligent", "--auto-approve")[0] == 0
    members = _segment_members(stack, "Churn_risk")
    assert members
    _rename(stack.manifests / "activations" / "churn-selligent.yaml", "Churn risk",
            "Churn risk 2027", delete=True)
    code, text = _run(stack, "plan", "-a", "churn-selligent", "--detailed-exitcode")
    assert code == 2, text
    assert ("-/+ static segment Churn_risk_2027 (replaces Churn_risk)  # the manifests name "
            "Churn_risk_2027, the last apply wrote Churn_risk: the new static segment gets "
            f"every member, then Churn_risk ({len(members):,} members) is deleted "
            "(deletionPolicy: delete)") in text
    assert f"~ members  +{len(members):,} −0" in text
    assert "Plan: 1 to create, 0 to update, 1 to delete (1 replaced: -/+);" in text
    code, raw = _run(stack, "plan", "-a", "churn-selligent", "--format", "json")
    planned = json.loads(raw)["activations"][0]
    assert planned["verdict"] == "will-apply" and planned["remote_name"] == "Churn_risk_2027"
    assert planned["resources"][0]["action"] == "-/+"
    assert planned["resources"][0]["replaces"] == {
        "destination": "selligent-sandbox", "name": "Churn_risk", "members": len(members),
        "deleted": True}
    code, text = _run(stack, "apply", "-a", "churn-selligent", "--auto-approve")
    assert code == 0, text
    assert _segment_members(stack, "Churn_risk_2027") == members
    with _selligent(stack) as adapter:
        assert adapter.read_segment("Churn_risk") is None
    assert _run(stack, "plan", "-a", "churn-selligent")[1] == NO_CHANGES
    assert _run(stack, "plan", "-a", "churn-selligent", "--refresh")[1] == NO_CHANGES


def test_a_renamed_audience_keeps_the_old_segment_by_default_and_says_so(stack: Stack) -> None:
    # Scenario: vip-selligent (deletionPolicy keep) is renamed: the plan replaces its segment
    # and warns that the old one stays unmanaged; apply leaves it as it was.
    assert _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")[0] == 0
    members = _segment_members(stack, "VIP_customers")
    _rename(stack.manifests / "activations" / "vip-selligent.yaml", "VIP customers",
            "VIP 2027")
    code, text = _run(stack, "plan", "-a", "vip-selligent", "--detailed-exitcode")
    assert code == 2, text
    assert "-/+ static segment VIP_2027 (replaces VIP_customers)" in text
    assert f"VIP_customers ({len(members):,} members) is kept, no longer managed" in text
    assert (f"! warning: static segment 'VIP_customers' ({len(members):,} members) stays at "
            "selligent-sandbox, no longer managed by this activation (deletionPolicy: keep)"
            ) in text
    assert "Plan: 1 to create, 0 to update, 0 to delete (1 replaced: -/+);" in text
    assert _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")[0] == 0
    assert _segment_members(stack, "VIP_2027") == members
    assert _segment_members(stack, "VIP_customers") == members  # untouched
    assert _run(stack, "plan", "-a", "vip-selligent")[1] == NO_CHANGES


def test_a_replacement_that_would_drop_members_is_stopped_by_the_removal_guard(
        stack: Stack) -> None:
    # Scenario: vip-selligent (maxRemovalRatio 0.1) is renamed with deletionPolicy: delete
    # while its segment's condition shrinks the audience: deleting the old segment would
    # remove most of its members, so the guard stops it and nothing is written.
    assert _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")[0] == 0
    _rename(stack.manifests / "activations" / "vip-selligent.yaml", "VIP customers",
            "VIP 2027", delete=True)
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 4000"), "utf-8")
    code, text = _run(stack, "plan", "-a", "vip-selligent", "--detailed-exitcode")
    assert code == 3, text
    assert re.search(r"! stop: removes \d+\.\d% of the list's members, over maxRemovalRatio "
                     r"10%", text), text
    before = _segment_members(stack, "VIP_customers")
    code, text = _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")
    assert code == 1 and "--allow-mass-removal" in text, text
    assert _segment_members(stack, "VIP_customers") == before
    with _selligent(stack) as adapter:
        assert adapter.read_segment("VIP_2027") is None


def test_a_renamed_actito_audience_replaces_its_target_list(stack: Stack) -> None:
    # Scenario: churn-actito is applied, then renamed with deletionPolicy: delete: the plan
    # replaces the list with every member, apply drops the whole key file on a new list and
    # deletes the old one, and the next plan has no changes. The list is managed by API (the
    # portal's lists of the sandbox are gone).
    stack.actito.store.target_lists.clear()
    churn = stack.manifests / "activations" / "churn-actito.yaml"
    churn.write_text(churn.read_text("utf-8").replace('targetList: {id: "501", ',
                                                      "targetList: {manage: api, "), "utf-8")
    assert _run(stack, "apply", "-a", "churn-actito", "--auto-approve")[0] == 0
    old = _actito_list(stack, "Churn risk")
    assert old is not None
    count = len(old["memberIds"])  # type: ignore[arg-type]
    _rename(stack.manifests / "activations" / "churn-actito.yaml", "Churn risk",
            "Churn risk 2027", delete=True)
    code, text = _run(stack, "plan", "-a", "churn-actito", "--detailed-exitcode")
    assert code == 2, text
    assert ('-/+ external target list "Churn risk 2027" (replaces Churn risk)  # the manifests '
            "name Churn risk 2027, the last apply wrote Churn risk") in text
    assert f"~ members  +{count:,} −0" in text
    code, text = _run(stack, "apply", "-a", "churn-actito", "--auto-approve")
    assert code == 0, text
    new = _actito_list(stack, "Churn risk 2027")
    assert new is not None and new["memberIds"] == old["memberIds"]
    assert _actito_list(stack, "Churn risk") is None
    assert _run(stack, "plan", "-a", "churn-actito")[1] == NO_CHANGES
