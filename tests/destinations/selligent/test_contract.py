"""Recorded client requests and sandbox answers validate against the vendor's Swagger 2.0."""
from __future__ import annotations

import pytest

from reconciler.destinations.errors import DestinationError
from reconciler.destinations.selligent import SelligentAdapter, SelligentClient, SelligentLimits
from reconciler.sandbox.http import LogEntry
from reconciler.sandbox.selligent import SelligentSandbox
from tests.destinations.selligent.harness import FAST, LIST, ORG
from tests.destinations.selligent.swagger import Contract, load_spec

OPERATIONS = {
    "Status_Get", "Organization_Get", "List_GetLists", "List_CreateList", "List_GetList",
    "List_Delete", "List_GetListFields", "List_CreateListFields", "Data_LoadData",
    "Data_DeleteData", "Data_SearchData", "List_GetListSegments", "List_CreateStaticSegment",
    "List_GetListSegment", "List_DeleteSegment", "Data_LoadSegmentData", "Data_DeleteSegmentData",
    "Data_ClearStaticSegmentData", "Data_SearchSegmentData",
}


def _every_endpoint(client: SelligentClient, adapter: SelligentAdapter) -> None:
    """Each implemented operation, happy path and documented errors, through our client."""
    client.get_status()
    client.get_organization(ORG)
    client.create_list(ORG, "ORDERS", "Orders", "Datalist", "Shop orders", ["shop"])
    list(client.iter_lists(ORG, list_type="Datalist", search="orders"))
    client.get_list(ORG, "ORDERS")
    client.delete_list(ORG, "ORDERS")
    adapter.read_fields()
    client.create_fields(ORG, LIST, [{"name": "LTV", "data_type": "Float", "description": "ltv"}])
    client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "LTV"],
                          [["C000001", 12.5], ["NEW1", 3], ["NEW2", "many"]])
    client.delete_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID"], [["NEW1"], ["GHOST"]])
    list(client.search_list_data(ORG, LIST, ["EXTERNAL_ID", "LTV", "SYSTEM.SELLIGENTID"],
                                 [{"field_name": "LTV", "operator": "IsNotNull"}], "LTV", "DESC"))
    segment = adapter.create_static_segment("Contract_check", "Contract check").api_name
    list(client.iter_segments(ORG, LIST, segment_type="Static"))
    adapter.add_segment_members(segment, "EXTERNAL_ID", ["C000001", "C000002", "GHOST"])
    list(adapter.iter_segment_member_keys(segment, "EXTERNAL_ID"))
    adapter.remove_segment_members(segment, "EXTERNAL_ID", ["C000002"])
    client.clear_segment(ORG, LIST, segment)
    client.delete_segment(ORG, LIST, segment)
    adapter.update_contact_fields("EXTERNAL_ID", ["MAIL"], [["C000003", "c3@x.test"]])
    for refused in (
        lambda: client.get_segment(ORG, LIST, segment),  # 404
        lambda: client.create_list(ORG, LIST, "again"),  # 400
        lambda: client.load_segment_data(ORG, LIST, "BELGIAN_CONTACTS", ["EXTERNAL_ID"],
                                         ["EXTERNAL_ID"], [["C000001"]]),  # 400, dynamic
        lambda: SelligentClient(client.transport.base_url, "sandbox-key", "wrong",
                                FAST).get_organization(ORG),  # 401
    ):
        with pytest.raises(DestinationError):
            refused()


def test_recorded_traffic_validates_against_the_vendor_swagger(
    sandbox: SelligentSandbox, client: SelligentClient, adapter: SelligentAdapter
) -> None:
    # Scenario: every endpoint is called through the client; each request and answer fits the
    # Swagger document, and every implemented operation was exercised.
    small = SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret",
                            SelligentLimits(**{**vars(FAST), "page_size": 2}))
    _every_endpoint(small, adapter)
    contract = Contract(load_spec())
    entries = [e for e in sandbox.log.entries() if e.status]
    problems = [p for e in entries for p in contract.check(e)]
    assert problems == []
    seen = {contract.find(e.method, e.path)["operationId"] for e in entries}  # type: ignore[index]
    assert seen == OPERATIONS
    assert {e.status for e in entries} >= {200, 201, 400, 401, 404}


def test_the_contract_check_catches_deviations() -> None:
    # Scenario: numbers in a load body, an undeclared query parameter, wrong path casing and a
    # null where the document wants a string are all reported.
    contract = Contract(load_spec())
    load = "/Portal/Api/organizations/O/lists/L/data/load"
    entry = LogEntry(time=0, method="POST", path=load, query={"keyFields": ["K"], "x": ["1"]},
                     headers={"x-apikey": "k:s"}, request_body=b'[["a", 1]]', status=200,
                     response_body=b'{"errors": null, "result_code": "Succeeded"}',
                     duration_ms=1, in_flight=1)
    problems = contract.check(entry)
    assert any("undeclared query parameter x" in p for p in problems)
    assert any("request: 0/1: 1 is not of type 'string'" in p for p in problems)
    assert any("response 200: errors: None is not of type 'array'" in p for p in problems)
    entry.path = load.replace("/lists/", "/Lists/")
    assert contract.check(entry) == [f"POST {entry.path}: no such operation (or wrong casing)"]
