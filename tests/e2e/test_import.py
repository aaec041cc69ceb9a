"""Adopting a list that already exists at the destination (terraform's `import`): a plan
never writes to a same-named list the tool does not own; `reconciler import ACTIVATION` takes
it over, and the next plan shows only the difference."""
from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.actito.adapter import ActitoAdapter
from reconciler.destinations.actito.limits import ActitoLimits
from reconciler.destinations.actito.transfer import FileTransferSettings, TransferProtocol
from reconciler.destinations.selligent.adapter import SelligentAdapter
from tests.e2e.conftest import NOW, UNPACED_CALLS_PER_MINUTE, Stack, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
NO_CHANGES = "No changes. The destinations match the manifests.\n"


def _run(stack: Stack, command: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [command, *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def _import(stack: Stack, activation: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["import", activation, *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def _selligent(stack: Stack) -> SelligentAdapter:
    return SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                            list_api_name="CONTACTS", api_key="sandbox-key",
                            api_secret="sandbox-secret")


def _members(stack: Stack, api_name: str) -> set[str]:
    with _selligent(stack) as adapter:
        return {key for page in adapter.iter_segment_member_keys(api_name, "EXTERNAL_ID")
                for key in page}


def _planned(stack: Stack, activation: str) -> dict[str, object]:
    result = runner.invoke(app, ["plan", *stack.cli_args(), "-a", activation, "--format",
                                 "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["activations"][0]  # type: ignore[no-any-return]


def test_a_selligent_segment_made_by_hand_is_refused_until_imported(stack: Stack) -> None:
    # Scenario: VIP_customers exists in Selligent (made there, with members of which some are
    # outside the audience) before vip-selligent was ever applied: plan and apply refuse to
    # write to it; `reconciler import vip-selligent` records it with its members; the next
    # plan adds and removes only the difference, and after apply the plan is empty.
    # The audience, as an apply writes it; then the segment and the activation's state go.
    assert _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")[0] == 0
    audience = _members(stack, "VIP_customers")
    with _selligent(stack) as adapter:
        adapter.delete_static_segment("VIP_customers")
    stack.state_sql(*(f"DELETE FROM {table} WHERE activation = 'vip-selligent'" for table in
                      ("snapshot_info", "snapshots", "applied_activations", "remote_ids")))
    kept = sorted(audience)[:100]
    with _selligent(stack) as adapter:
        adapter.create_static_segment("VIP_customers", "VIP customers", "made by hand")
        contacts = {k for page in adapter.iter_contact_keys("EXTERNAL_ID") for k in page}
        outside = sorted(contacts - audience)[:2]
        adapter.add_segment_members("VIP_customers", "EXTERNAL_ID", [*kept, *outside])
    code, text = _run(stack, "plan", "-a", "vip-selligent")
    assert code == 1, text
    assert ("! cannot plan: static segment 'VIP_customers' already exists at selligent-sandbox "
            "(org SANDBOX, list CONTACTS) and this activation does not own it: nothing is "
            "written to it. `reconciler import vip-selligent` takes it over") in text
    code, text = _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")
    assert code == 1 and "does not own it" in text, text
    assert _members(stack, "VIP_customers") == {*kept, *outside}  # untouched
    stack.at(NOW + dt.timedelta(hours=1))  # runs are ordered by time: the refusal came first
    code, text = _import(stack, "vip-selligent")
    assert code == 0, text
    assert ("Imported static segment 'VIP_customers' at selligent-sandbox (org SANDBOX, list "
            "CONTACTS), id VIP_customers into activation vip-selligent with its 102 members."
            ) in text
    planned = _planned(stack, "vip-selligent")
    members = planned["members"]
    assert isinstance(members, dict)
    assert (members["adds"], members["removes"]) == (len(audience) - 100, 2)
    assert planned["resources"] == [] or all(  # the LTV field may still be created
        r["type"] == "selligent_list_field" for r in planned["resources"])  # type: ignore
    code, text = _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")
    assert code == 0, text
    assert _members(stack, "VIP_customers") == audience
    assert _run(stack, "plan", "-a", "vip-selligent")[1] == NO_CHANGES
    code, text = _import(stack, "vip-selligent")
    assert code == 1 and "already owns static segment 'VIP_customers'" in text, text


def test_an_actito_list_made_by_hand_is_imported_without_its_members(stack: Stack) -> None:
    # Scenario: the external target list "Churn risk" exists in Actito before churn-actito
    # was applied: the plan refuses it; the import records its ownership only (Actito does
    # not list a list's members) and says so; the next plan says apply writes it whole; after
    # apply the plan is empty.
    transfer = stack.actito.ftps
    adapter = ActitoAdapter(
        base_url=stack.actito.url, entity="sandbox", profile_table="Profiles",
        api_key="sandbox-api-key", transfer=FileTransferSettings(
            protocol=TransferProtocol.FTPS, host=transfer.host, port=transfer.port,
            username=transfer.username, password=transfer.password,
            ca_file=transfer.ca_file),
        # The licence's gate is the process's: the first caller's limits are the commands'
        # below (the stack's, unpaced; Actito's documented 100 a minute would make each
        # profile lookup of the last plan wait its turn).
        limits=ActitoLimits(calls_per_minute=UNPACED_CALLS_PER_MINUTE))
    # The sandbox's portal set-up made it (list 501); churn-actito manages its list by API.
    churn = stack.manifests / "activations" / "churn-actito.yaml"
    churn.write_text(churn.read_text("utf-8").replace('targetList: {id: "501", ',
                                                      "targetList: {manage: api, "), "utf-8")
    made = adapter.read_target_list("Churn risk")
    assert made is not None
    code, text = _run(stack, "plan", "-a", "churn-actito")
    assert code == 1 and "external target list 'Churn risk' already exists" in text, text
    code, text = _import(stack, "churn-actito", "--id", "999999")
    assert code == 1 and f"has the id {made.id}" in text, text
    code, text = _import(stack, "churn-actito", "--id", made.id)
    assert code == 0, text
    assert f"id {made.id} into activation churn-actito: its members cannot be read" in text
    assert "The next apply replaces its whole list (key file)" in text
    code, text = _run(stack, "plan", "-a", "churn-actito", "--detailed-exitcode")
    assert code == 2, text
    assert ("! warning: external target list 'Churn risk' was imported without its members "
            "(the destination does not list them): apply writes it whole") in text
    assert _run(stack, "apply", "-a", "churn-actito", "--auto-approve")[0] == 0
    assert _run(stack, "plan", "-a", "churn-actito")[1] == NO_CHANGES


def test_import_says_what_is_missing(stack: Stack) -> None:
    # Scenario: importing for an activation the manifests do not define, or a list that does
    # not exist yet, is an error that says what to do.
    code, text = _import(stack, "nope")
    assert code == 1 and "no activation named nope" in text, text
    code, text = _import(stack, "churn-selligent")
    assert code == 1, text
    assert ("there is no static segment 'Churn_risk' at selligent-sandbox (org SANDBOX, list "
            "CONTACTS) to import; `reconciler apply` creates it") in text
