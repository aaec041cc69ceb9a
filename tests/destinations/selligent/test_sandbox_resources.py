"""The Selligent sandbox's auth, organization, lists, fields and segments, over raw HTTP."""
from __future__ import annotations

import json
from pathlib import Path

import requests

from reconciler.sandbox.http import Faults
from reconciler.sandbox.seed import is_left_out
from reconciler.sandbox.selligent import SelligentSandbox, ServiceAccount
from tests.destinations.selligent.harness import KEY, SEED_FILE, call, contacts, start
from tests.timing import StepClock, wait_until

LISTS = "/organizations/SANDBOX/lists"


def test_status_and_organization(sandbox: SelligentSandbox) -> None:
    # Scenario: the API is up and the seeded organization shows its audience list.
    assert call(sandbox, "GET", "/status").status_code == 200
    org = call(sandbox, "GET", "/organizations/SANDBOX").json()
    assert org["name"] == "SANDBOX" and org["audiences"] == [{"api_name": "CONTACTS"}]
    missing = call(sandbox, "GET", "/organizations/NOPE")
    assert missing.status_code == 404 and missing.json()["result_code"] == "NotFound"


def test_wrong_key_missing_key_and_two_header_form(sandbox: SelligentSandbox) -> None:
    # Scenario: a wrong or missing key gets 401; key and secret in two headers are accepted.
    url = sandbox.url + LISTS
    wrong = {"X-ApiKey": "sandbox-key:wrong"}
    assert requests.get(url, headers=wrong, timeout=5).status_code == 401
    assert requests.get(url, timeout=5).json() == "unauthorized."
    two = {"X-ApiKey": "sandbox-key", "X-ApiKey-Secret": "sandbox-secret"}
    assert requests.get(url, headers=two, timeout=5).status_code == 200


def test_service_account_limited_to_orgs_and_endpoints() -> None:
    # Scenario: a service account limited to one org and one endpoint gets 401 elsewhere.
    limited = ServiceAccount("ro", "pw", organizations=frozenset({"SANDBOX"}),
                             endpoints=frozenset({"List_GetLists"}))
    with start(accounts=[limited]) as running:
        headers = {"X-ApiKey": "ro:pw"}
        assert call(running, "GET", LISTS, headers=headers).status_code == 200
        other = call(running, "GET", "/organizations/OTHER/lists", headers=headers)
        assert other.status_code == 401
        assert call(running, "GET", LISTS + "/CONTACTS", headers=headers).status_code == 401
        assert call(running, "GET", LISTS).status_code == 401  # the default key is not there


def test_seed_leaves_out_about_five_percent(sandbox: SelligentSandbox) -> None:
    # Scenario: the seeded contacts are the example customers minus the deterministic left-outs.
    rows = SEED_FILE.read_text(encoding="utf-8").splitlines()[1:]
    ids = [r.split(",")[0] for r in rows]
    table = contacts(sandbox)
    seeded = {v["EXTERNAL_ID"] for v in table.records.values()}
    assert seeded == {i for i in ids if not is_left_out(i)}
    assert 0.03 < 1 - len(seeded) / len(ids) < 0.07


def test_lists_create_get_page_filter_search_delete(sandbox: SelligentSandbox) -> None:
    # Scenario: lists are created, read, paged with skip/take, filtered, searched and deleted.
    for i in range(3):
        body = {"api_name": f"DATA_{i}", "name": f"Orders {i}", "type": "Datalist",
                "tags": ["shop"]}
        created = call(sandbox, "POST", LISTS, json=body)
        assert created.json() == {"result_code": "Succeeded",
                                  "message": "List created successfully."}
    page = call(sandbox, "GET", LISTS, params={"skip": 1, "take": 2}).json()["lists"]
    assert [item["api_name"] for item in page] == ["DATA_0", "DATA_1"]
    users = call(sandbox, "GET", LISTS, params={"filter": "Userlist"}).json()["lists"]
    assert [item["api_name"] for item in users] == ["CONTACTS"]
    assert len(call(sandbox, "GET", LISTS, params={"search": "orders 2"}).json()["lists"]) == 1
    detail = call(sandbox, "GET", LISTS + "/data_1").json()
    assert detail["api_name"] == "DATA_1" and detail["type"] == "Datalist"
    assert call(sandbox, "DELETE", LISTS + "/DATA_1").json()["result_code"] == "Succeeded"
    assert call(sandbox, "GET", LISTS + "/DATA_1").status_code == 404


def test_list_create_errors(sandbox: SelligentSandbox) -> None:
    # Scenario: a duplicate api name, a bad api name and a missing type are 400 envelopes.
    duplicate = call(sandbox, "POST", LISTS, json={"api_name": "CONTACTS", "name": "x",
                                                   "type": "Userlist"})
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"][0]["error_code"] == "ERR_LIST_VALIDATION"
    body = {"api_name": "my list", "name": "x", "type": "Datalist"}
    bad = call(sandbox, "POST", LISTS, json=body)
    assert bad.status_code == 400
    assert call(sandbox, "POST", LISTS, json={"api_name": "X", "name": "x"}).status_code == 400


def test_fields_get_and_create(sandbox: SelligentSandbox) -> None:
    # Scenario: the list's fields are read; a new field is created (201); duplicates are 400.
    path = LISTS + "/CONTACTS/fields"
    names = [f["name"] for f in call(sandbox, "GET", path).json()["fields"]]
    assert names[:6] == ["EXTERNAL_ID", "MAIL", "MOBILE", "FIRSTNAME", "NAME", "COUNTRY"]
    created = call(sandbox, "POST", path, json={"fields": [{"name": "LTV", "data_type": "Float"}]})
    assert created.status_code == 201 and created.json()["result_code"] == "Succeeded"
    again = call(sandbox, "POST", path, json={"fields": [{"name": "ltv", "data_type": "Float"}]})
    assert again.status_code == 400
    wrong = call(sandbox, "POST", path, json={"fields": [{"name": "X", "data_type": "Money"}]})
    assert wrong.status_code == 400


def test_segments_list_get_create_delete(sandbox: SelligentSandbox) -> None:
    # Scenario: static segments are created, listed with segment_count, read and deleted.
    path = LISTS + "/CONTACTS/segments"
    made = call(sandbox, "POST", path + "/static", json={"api_name": "VIP", "name": "VIP"})
    assert made.json()["message"] == "The static segment has been created successfully."
    assert call(sandbox, "POST", path + "/static", json={"api_name": "VIP",
                                                        "name": "VIP"}).status_code == 400
    listing = call(sandbox, "GET", path, params={"take": 1}).json()
    assert listing["segment_count"] == 2 and len(listing["segments"]) == 1
    static = call(sandbox, "GET", path, params={"filter": "Static"}).json()
    assert static["segments"] == [{"segment_type": "Static", "api_name": "VIP"}]
    assert call(sandbox, "GET", path + "/VIP").json()["type"] == "Static"
    assert call(sandbox, "DELETE", path + "/VIP").json()["result_code"] == "Succeeded"
    assert call(sandbox, "GET", path + "/VIP").status_code == 404


def test_data_survives_a_restart(tmp_path: Path) -> None:
    # Scenario: a sandbox with a data directory keeps its changes across a restart.
    with start(data_dir=tmp_path) as first:
        body = {"api_name": "KEEP", "name": "Kept", "type": "Datalist"}
        assert call(first, "POST", LISTS, json=body).status_code == 200
        segments = LISTS + "/CONTACTS/segments"
        call(first, "POST", segments + "/static", json={"api_name": "KEPT", "name": "Kept"})
        call(first, "POST", segments + "/KEPT/data/load", json=[["C000001"]],
             params={"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"})
    with start(data_dir=tmp_path, seed_file=None) as second:
        assert call(second, "GET", LISTS + "/KEEP").status_code == 200
        assert len(contacts(second).records) > 4000
        kept = call(second, "POST", LISTS + "/CONTACTS/segments/KEPT/data/search",
                    json={"fields": ["EXTERNAL_ID"]})
        assert kept.json()["data"] == [["C000001"]]
    assert (tmp_path / "selligent" / "requests.jsonl").exists()
    assert KEY["X-ApiKey"] not in (tmp_path / "selligent" / "requests.jsonl").read_text()


def test_store_is_saved_once_requests_pause(tmp_path: Path) -> None:
    # Scenario: loads keep coming for a second: the store file is not rewritten meanwhile (a
    # save would hold them up); soon after the last one it is, with every change.
    params = {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID,NAME",
              "data_import_option": "OnlyUpdate"}
    clock = StepClock()  # the sandbox's idea of time: 24 loads 0.05 s apart, then a pause
    with start(data_dir=tmp_path, faults=Faults(clock=clock)) as sandbox:
        path = tmp_path / "selligent" / "store.json"
        seeded, loads = path.stat().st_mtime_ns, 0
        for loads in range(1, 25):
            call(sandbox, "POST", LISTS + "/CONTACTS/data/load", params=params,
                 json=[["C000001", f"Name{loads}"]])
            clock.advance(0.05)
        readings = clock.readings
        wait_until(lambda: clock.readings > readings + 3, "the saver looked a few times")
        assert path.stat().st_mtime_ns == seeded
        clock.advance(1.0)
        wait_until(lambda: path.stat().st_mtime_ns != seeded, "the store was saved")
        saved = json.loads(path.read_text("utf-8"))
    records = saved["organizations"][0]["lists"][0]["records"]
    assert [v["NAME"] for _, v in records if v["EXTERNAL_ID"] == "C000001"] == [f"Name{loads}"]


def test_trim_log_bounds_the_in_memory_log(sandbox: SelligentSandbox) -> None:
    # Scenario: a long-running sandbox forgets its in-memory log past the bound.
    for _ in range(3):
        call(sandbox, "GET", "/status")
    sandbox.trim_log(keep=5)
    assert len(sandbox.log.entries()) == 3
    sandbox.trim_log(keep=2)
    assert sandbox.log.entries() == []
