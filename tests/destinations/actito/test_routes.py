"""The one table of Actito routes: what a manifest's replacement changes on the wire, what
`documentedOnly` refuses before sending, and the sandbox's strict mode that proves which
routes a flow needed."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.destinations.actito.observer import ActitoObserver
from reconciler.destinations.actito.readiness import documented_ground
from reconciler.destinations.actito.routes import OPERATIONS, ROUTES, RouteBook
from reconciler.destinations.actito.targeting import ListTarget, file_name
from reconciler.destinations.errors import PermanentApiError
from reconciler.manifests.loading import load_project
from reconciler.manifests.models import ActitoDestination, FieldType
from reconciler.manifests.models.destination import ACTITO_OPERATIONS
from reconciler.manifests.settings import effective_activations
from reconciler.sandbox.actito import ActitoSandbox
from reconciler.sandbox.actito.portal import load_portal
from tests.destinations.actito.conftest import api_list, make_adapter, make_client

PORTAL = Path(__file__).resolve().parents[3] / "manifests" / "data" / "actito-portal.json"


def test_the_manifest_knows_every_operation_of_the_table() -> None:
    assert ACTITO_OPERATIONS == OPERATIONS
    assert {r.operation for r in ROUTES.values() if not r.inferred} == {
        "listProfileTables", "getProfileTable", "getProfile", "triggerEtl", "getEtlExecution"}


def test_a_route_override_changes_the_request_the_client_sends(sandbox: ActitoSandbox) -> None:
    # Scenario: a user with Actito's API reference corrects the list-creation route and body.
    book = RouteBook.from_manifest({"createTargetList": {
        "method": "put", "path": "/targetings/v5/entities/{entity}/lists",
        "body": {"label": "{name}", "days": "{validityValue}", "sync": "sync-{synchronizationId}"},
    }})
    client = make_client(sandbox, routes=book)
    with pytest.raises(PermanentApiError):  # the sandbox serves no such route
        client.create("createTargetList", {
            "name": "VIP", "description": "", "synchronizationId": 7, "keyAttribute": "k",
            "validityValue": 2, "validityUnit": "DAYS", "tableName": "Profiles"})
    sent = sandbox.log.entries()[-1]
    assert (sent.method, sent.path) == ("PUT", "/targetings/v5/entities/sandbox/lists")
    assert sent.request_json() == {"label": "VIP", "days": 2, "sync": "sync-7"}


def test_a_bad_override_names_the_field_and_what_it_may_use() -> None:
    with pytest.raises(PermanentApiError, match=r"spec\.api\.routes\.getTargetList\.path uses "
                                                r"\{list\}; this operation fills \{entity\}, "
                                                r"\{id\}, \{table\}"):
        RouteBook.from_manifest({"getTargetList": {"path": "/t/{list}"}}, where="destination 'a'")
    with pytest.raises(PermanentApiError, match="unknown operation"):
        RouteBook.from_manifest({"getList": {}})


def test_documented_only_refuses_an_inferred_operation_before_sending(
        sandbox: ActitoSandbox) -> None:
    client = make_client(sandbox, routes=RouteBook(documented_only=True))
    before = len(sandbox.log.entries())
    with pytest.raises(PermanentApiError, match="api.documentedOnly") as caught:
        client.create_attribute("Profiles", "churnScore", "DECIMAL")
    assert "api.routes.createAttribute" in str(caught.value)
    assert all(e.path.startswith(("/auth", "/profile-table-structure/v5/entities/sandbox/"
                                                "profile-tables"))
               and e.method == "GET" for e in sandbox.log.entries()[before:])
    # A replaced route is the user's own; with the inferred body kept, still a guess.
    path_only = RouteBook.from_manifest({"createAttribute": {"path": "/x/{table}"}})
    assert path_only.route("createAttribute").inferred
    own = RouteBook.from_manifest({"createAttribute": {"path": "/x/{table}",
                                                       "body": {"n": "{name}"}}})
    assert not own.route("createAttribute").inferred


def test_strict_sandbox_answers_501_to_inferred_routes_and_logs_them(
        start: Callable[..., ActitoSandbox]) -> None:
    strict = start(documented_only=True)
    client = make_client(strict)
    assert client.profile_table("Profiles")["id"] == "16"  # documented: served
    with pytest.raises(PermanentApiError) as caught:
        client.profiles_page("Profiles", 0, 10, ["customerId"])
    assert caught.value.status == 501
    assert [(e.method, e.status) for e in strict.undocumented_requests()] == [("GET", 501)]


def test_a_portal_list_needs_only_the_file_drop(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: list 501 was set up in the portal; the strict sandbox serves no list route,
    # and the key file alone fills the list (its pickup is not confirmed: nothing documented).
    strict = start(documented_only=True)
    table = strict.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    load_portal(strict.store, PORTAL, table, "sandbox")
    adapter = make_adapter(strict, routes=RouteBook(documented_only=True))
    target = ListTarget("Churn risk", "customerId", False, "churn_risk_$yyyyMMddHHmmss.zip",
                        "501")
    report = adapter.replace_members(target, ["C000001", "C000002", "NOPE"],
                                     moment=datetime(2026, 12, 4, 10, 30, 5, tzinfo=UTC))
    assert (report.file_name, report.lines, report.confirmed) == (
        "churn_risk_20261204103005.zip", 3, False)
    strict.syncer.scan()
    record = strict.store.target_lists["501"]
    assert record["lastFileName"] == report.file_name and len(record["memberIds"]) == 2
    assert strict.undocumented_requests() == []
    assert api_list("x", "k").managed_by_api


def test_file_names_resolve_date_placeholders() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert file_name("a_$yyyyMMdd-$HHmmss.zip", moment) == "a_20260102-030405.zip"
    assert file_name("fixed.zip", moment) == "fixed.zip"


def test_doctor_says_which_activations_rest_on_inferred_routes() -> None:
    # Scenario: the example needs no inferred route; without its ETL id, churn-actito's
    # updates need the one-shot execution (its definition is inferred); with documentedOnly
    # that is a failed check.
    project, _ = load_project(PORTAL.parents[1])
    spec = project.destinations()["actito-sandbox"].spec
    assert isinstance(spec, ActitoDestination)
    found = [a for a in effective_activations(project).values()
             if a.destination == "actito-sandbox"]
    assert documented_ground(spec, found).ok is True
    one_shot = [dataclasses.replace(a, etl_id=None) for a in found]
    finding = documented_ground(spec, one_shot)
    assert finding.ok is True and "churn-actito: startEtlExecution" in finding.message
    strict = spec.model_copy(update={"api": spec.api.model_copy(update={"documented_only": True})})
    refused = documented_ground(strict, one_shot)
    assert refused.ok is False and "api.documentedOnly refuses them" in refused.message


def test_a_mapping_of_another_type_than_the_attribute_is_a_plan_error(
        start: Callable[..., ActitoSandbox]) -> None:
    # [C] evidence §3: an attribute's type cannot change: the plan says so before any write.
    sandbox = start()
    table = sandbox.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    load_portal(sandbox.store, PORTAL, table, "sandbox")  # churnScore is DECIMAL there
    project, _ = load_project(PORTAL.parents[1])
    churn = effective_activations(project)["churn-actito"]
    as_text = dataclasses.replace(churn, fields=tuple(
        m.model_copy(update={"type": FieldType.STRING}) for m in churn.fields))
    observer = ActitoObserver(make_adapter(sandbox))
    assert observer.plan_structure(churn).errors == ()
    [error] = observer.plan_structure(as_text).errors
    assert "churnScore of table Profiles is DECIMAL, the mapping says STRING" in error


def test_string_attributes_hold_255_characters_at_most(
        start: Callable[..., ActitoSandbox]) -> None:
    # [C] evidence §6 (ETL file rules): the plan counts and leaves out longer values, as it
    # does for a Selligent text field (the structure's field lengths).
    sandbox = start()
    project, _ = load_project(PORTAL.parents[1])
    churn = effective_activations(project)["churn-actito"]
    mapped = dataclasses.replace(churn, fields=(
        *churn.fields, churn.fields[0].model_copy(update={"destination": "customerId",
                                                          "type": None})))
    structure = ActitoObserver(make_adapter(sandbox)).plan_structure(mapped)
    assert structure.field_lengths == {"customerId": 255}


def test_a_portal_list_is_emptied_by_a_key_file_without_keys(
        start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: deleting a list is undocumented; with documentedOnly, a removed activation's
    # portal list is emptied instead (its header names every unique attribute, so whichever
    # the list is keyed by is there).
    strict = start(documented_only=True)
    table = strict.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    load_portal(strict.store, PORTAL, table, "sandbox")
    adapter = make_adapter(strict, routes=RouteBook(documented_only=True))
    target = ListTarget("sms-benelux", "gsmNumber", False, "sms-benelux_$yyyyMMddHHmmss.zip")
    phones = [v["gsmNumber"] for v in table.profiles.values() if v.get("gsmNumber")][:5]
    adapter.replace_members(target, phones, moment=datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    strict.syncer.scan()
    assert len(strict.store.target_lists["502"]["memberIds"]) == 5
    adapter.empty_target_list("sms-benelux")
    strict.syncer.scan()
    assert strict.store.target_lists["502"]["memberIds"] == []
    assert strict.store.target_lists["502"]["lastReport"]["status"] == "OK"
    assert strict.undocumented_requests() == []
