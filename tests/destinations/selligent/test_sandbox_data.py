"""The Selligent sandbox's list and segment data endpoints, over raw HTTP."""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.selligent import SelligentSandbox
from tests.destinations.selligent.harness import call, contacts, start

CONTACTS = "/organizations/SANDBOX/lists/CONTACTS"
SEGMENTS = CONTACTS + "/segments"


def _load(sandbox: SelligentSandbox, rows: list[list[Any]], **params: str) -> dict[str, Any]:
    params = {"keyFields": "EXTERNAL_ID", **params}
    answer = call(sandbox, "POST", CONTACTS + "/data/load", params=params, json=rows)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _search(sandbox: SelligentSandbox, path: str, **body: Any) -> dict[str, Any]:
    answer = call(sandbox, "POST", path + "/data/search", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_load_with_header_row_inserts_and_updates(sandbox: SelligentSandbox) -> None:
    # Scenario: with no `fields`, the first row is the header; new keys insert, known ones update.
    result = _load(sandbox, [["EXTERNAL_ID", "MAIL"], ["C000001", "new@x.test"], ["NEW1", "n@x"]])
    assert (result["number_of_inserted_records"], result["number_of_updated_records"]) == (1, 1)
    assert result["result_code"] == "Succeeded"
    found = _search(sandbox, CONTACTS, fields=["MAIL"], filters=[
        {"field_name": "EXTERNAL_ID", "operator": "EqualTo", "field_value": "C000001"}])
    assert found["data"] == [["new@x.test"]]


def test_load_options_only_update_only_insert_and_deduplication(sandbox: SelligentSandbox) -> None:
    # Scenario: OnlyUpdate never inserts, OnlyInsert never updates, duplicates keep the last row.
    only_update = _load(sandbox, [["C000001", "BE"], ["GHOST", "FR"]], fields="EXTERNAL_ID,COUNTRY",
                        data_import_option="OnlyUpdate")
    assert only_update["number_of_updated_records"] == 1
    assert only_update["number_of_records_not_found"] == 1
    assert only_update["number_of_inserted_records"] == 0
    only_insert = _load(sandbox, [["C000001", "NL"], ["FRESH", "FR"]], fields="EXTERNAL_ID,COUNTRY",
                        data_import_option="OnlyInsert")
    assert only_insert["number_of_inserted_records"] == 1
    assert only_insert["number_of_updated_records"] == 0
    dup = _load(sandbox, [["D1", "FR"], ["D1", "DE"]], fields="EXTERNAL_ID,COUNTRY")
    first = _load(sandbox, [["D2", "FR"], ["D2", "DE"]], fields="EXTERNAL_ID,COUNTRY",
                  deduplication="ImportFirstMatch")
    assert dup["number_of_duplicate_records"] == 1 and first["number_of_duplicate_records"] == 1
    rows = _search(sandbox, CONTACTS, fields=["EXTERNAL_ID", "COUNTRY"], filters=[
        {"field_name": "EXTERNAL_ID", "operator": "Like", "field_value": "D_"}],
        order_by="EXTERNAL_ID")["data"]
    assert rows == [["D1", "DE"], ["D2", "FR"]]


def test_invalid_records_make_a_partial_success(sandbox: SelligentSandbox) -> None:
    # Scenario: wrong field counts, too-long text and wrong types are reported per row.
    rows = [["OK1", "a@x", "0"], ["BAD1", "a@x"], ["BAD2", "x" * 300, "0"], ["BAD3", "b@x", "no"]]
    result = _load(sandbox, rows, fields="EXTERNAL_ID,MAIL,OPTOUT")
    assert result["result_code"] == "PartiallySucceeded"
    assert result["number_of_failed_records"] == 3 and result["number_of_inserted_records"] == 1
    codes = [(r["record_index"], r["validation_code"]) for r in result["invalid_records"]]
    assert codes == [(1, "InvalidFieldCount"), (2, "MaxStringLengthExceeded"), (3, "InvalidType")]
    all_bad = _load(sandbox, [["X"]], fields="EXTERNAL_ID,MAIL")
    assert all_bad["result_code"] == "Failed"


def test_load_errors_are_400_envelopes(sandbox: SelligentSandbox) -> None:
    # Scenario: no keyFields, an unknown field, a non-array body and too many rows are 400s.
    path = CONTACTS + "/data/load"
    assert call(sandbox, "POST", path, json=[["EXTERNAL_ID"], ["A"]]).status_code == 400
    unknown = call(sandbox, "POST", path, params={"keyFields": "EXTERNAL_ID", "fields": "NOPE"},
                   json=[["A"]])
    assert unknown.status_code == 400 and unknown.json()["result_code"] == "ValidationFailed"
    assert call(sandbox, "POST", path, params={"keyFields": "EXTERNAL_ID"},
                json={"a": 1}).status_code == 400
    with start(max_rows_per_load=2) as small:
        params = {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}
        over = call(small, "POST", path, params=params, json=[["A"], ["B"], ["C"]])
        assert over.status_code == 400 and "maximum is 2" in over.json()["errors"][0]["description"]


def test_delete_list_data_removes_records_and_memberships(sandbox: SelligentSandbox) -> None:
    # Scenario: deleting by key removes the record and its segment references; unknown keys count.
    call(sandbox, "POST", SEGMENTS + "/static", json={"api_name": "S", "name": "S"})
    call(sandbox, "POST", SEGMENTS + "/S/data/load",
         params={"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}, json=[["C000001"]])
    deleted = call(sandbox, "DELETE", CONTACTS + "/data",
                   params={"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"},
                   json=[["C000001"], ["GHOST"]]).json()
    assert deleted["number_of_deleted_records"] == 1 and deleted["number_of_records_not_found"] == 1
    assert _search(sandbox, SEGMENTS + "/S", fields=["EXTERNAL_ID"])["data"] == []


def test_search_fields_filters_order_and_paging(sandbox: SelligentSandbox) -> None:
    # Scenario: search returns typed values for the asked fields, filtered, ordered and paged.
    fields = ["MASTER.EXTERNAL_ID", "OPTOUT", "SYSTEM.SELLIGENTID"]
    belgians = _search(sandbox, CONTACTS, fields=fields,
                       filters=[{"field_name": "COUNTRY", "operator": "EqualTo",
                                 "field_value": "be"},
                                {"field_name": "OPTOUT", "operator": "LessThanOrEqualTo",
                                 "field_value": "0"}],
                       order_by="EXTERNAL_ID", order_by_direction="DESC", skip=1, take=2)
    assert belgians["fields"] == ["MASTER.EXTERNAL_ID", "OPTOUT", "SYSTEM.SELLIGENTID"]
    assert len(belgians["data"]) == 2 and belgians["data"][0][0] > belgians["data"][1][0]
    assert all(isinstance(row[1], int) and isinstance(row[2], int) for row in belgians["data"])
    nulls = _search(sandbox, CONTACTS, fields=["EXTERNAL_ID"],
                    filters=[{"field_name": "MOBILE", "operator": "IsNull"}])
    not_nulls = _search(sandbox, CONTACTS, fields=["EXTERNAL_ID"],
                        filters=[{"field_name": "MOBILE", "operator": "IsNotEmpty"}])
    assert len(nulls["data"]) + len(not_nulls["data"]) == len(contacts(sandbox).records)
    bad = call(sandbox, "POST", CONTACTS + "/data/search",
               json={"fields": ["X.Y"], "filters": []})
    assert bad.status_code == 400


def test_segment_load_references_existing_contacts_only(sandbox: SelligentSandbox) -> None:
    # Scenario: a segment load of unknown keys adds nobody and reports them as not found.
    call(sandbox, "POST", SEGMENTS + "/static", json={"api_name": "S", "name": "S"})
    records_before = len(contacts(sandbox).records)
    params = {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}
    result = call(sandbox, "POST", SEGMENTS + "/S/data/load", params=params,
                  json=[["GHOST1"], ["GHOST2"]]).json()
    assert result["number_of_records_not_found"] == 2 and result["number_of_inserted_records"] == 0
    again = call(sandbox, "POST", SEGMENTS + "/S/data/load", params=params,
                 json=[["C000001"], ["C000002"], ["GHOST1"]]).json()
    assert (again["number_of_inserted_records"], again["number_of_records_not_found"]) == (2, 1)
    assert len(contacts(sandbox).records) == records_before
    members = _search(sandbox, SEGMENTS + "/S", fields=["EXTERNAL_ID"])["data"]
    assert members == [["C000001"], ["C000002"]]


def test_segment_delete_and_clear(sandbox: SelligentSandbox) -> None:
    # Scenario: removing members drops references only; clear empties the segment.
    call(sandbox, "POST", SEGMENTS + "/static", json={"api_name": "S", "name": "S"})
    params = {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}
    call(sandbox, "POST", SEGMENTS + "/S/data/load", params=params,
         json=[["C000001"], ["C000002"], ["C000003"]])
    removed = call(sandbox, "DELETE", SEGMENTS + "/S/data", params=params,
                   json=[["C000001"], ["C000004"]]).json()
    assert removed["number_of_deleted_records"] == 1 and removed["number_of_records_not_found"] == 1
    still = {"field_name": "EXTERNAL_ID", "operator": "EqualTo", "field_value": "C000001"}
    assert len(_search(sandbox, CONTACTS, fields=["EXTERNAL_ID"], filters=[still])["data"]) == 1
    cleared = call(sandbox, "DELETE", SEGMENTS + "/S/data/clear").json()
    assert cleared["message"] == "The data has been cleared successfully."
    assert _search(sandbox, SEGMENTS + "/S", fields=["EXTERNAL_ID"])["data"] == []


def test_dynamic_segments_are_read_only(sandbox: SelligentSandbox) -> None:
    # Scenario: a dynamic segment can be searched, but loading or clearing it is a 400.
    path = SEGMENTS + "/BELGIAN_CONTACTS"
    assert call(sandbox, "GET", path).json()["type"] == "Dynamic"
    rows = _search(sandbox, path, fields=["COUNTRY"])["data"]
    assert rows and {r[0] for r in rows} == {"BE"}
    params = {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}
    load = call(sandbox, "POST", path + "/data/load", params=params, json=[["C000001"]])
    assert load.status_code == 400 and load.json()["result_code"] == "ValidationFailed"
    assert call(sandbox, "DELETE", path + "/data/clear").status_code == 400
    assert call(sandbox, "DELETE", path + "/data", params=params, json=[["C1"]]).status_code == 400


def test_key_index_follows_changed_deleted_and_new_keys(sandbox: SelligentSandbox) -> None:
    # Scenario: loads keyed on one field change another field's values, delete and insert; loads
    # keyed on that other field find records by their current values, as a full scan would.
    segment = {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}
    call(sandbox, "POST", SEGMENTS + "/static", json={"api_name": "S", "name": "S"})
    _load(sandbox, [["C000001", "idx@x.test"]], fields="EXTERNAL_ID,MAIL")  # index EXTERNAL_ID
    renamed = _load(sandbox, [["idx@x.test", "RENAMED"]], keyFields="MAIL",
                    fields="MAIL,EXTERNAL_ID", data_import_option="OnlyUpdate")
    assert renamed["number_of_updated_records"] == 1
    found = call(sandbox, "POST", SEGMENTS + "/S/data/load", params=segment,
                 json=[[" renamed "], ["C000001"]]).json()
    assert (found["number_of_inserted_records"], found["number_of_records_not_found"]) == (1, 1)
    deleted = call(sandbox, "DELETE", CONTACTS + "/data", params=segment,
                   json=[["RENAMED"]]).json()
    assert deleted["number_of_deleted_records"] == 1
    gone = _load(sandbox, [["idx@x.test", "X"]], keyFields="MAIL", fields="MAIL,NAME",
                 data_import_option="OnlyUpdate")
    assert gone["number_of_records_not_found"] == 1
    assert _load(sandbox, [["C000001", "back@x.test"]],
                 fields="EXTERNAL_ID,MAIL")["number_of_inserted_records"] == 1
    table = contacts(sandbox)
    for names in (("EXTERNAL_ID",), ("MAIL",)):
        scanned: dict[tuple[str, ...], list[int]] = {}
        for record_id, values in table.records.items():
            key = tuple(str(values.get(n) or "").strip().casefold() for n in names)
            scanned.setdefault(key, []).append(record_id)
        assert table.index(names) == scanned
