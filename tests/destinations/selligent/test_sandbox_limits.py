"""The Selligent sandbox's documented limits and the tenant knobs for their unknowns (§8 of
api/selligent.md): the per-key rate limit, the page cap, the record count, unknown segments,
the inbound time limit and the service accounts' expiry and IP filtering."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests

from reconciler.sandbox.http import Faults
from reconciler.sandbox.selligent import SelligentSandbox, ServiceAccount
from reconciler.sandbox.selligent.app import DEFAULT_ACCOUNT
from reconciler.sandbox.selligent.limits import RateLimiter
from tests.destinations.selligent.harness import KEY, call, contacts, start
from tests.destinations.selligent.swagger import Contract, load_spec
from tests.timing import StepClock

LISTS = "/organizations/SANDBOX/lists"
CONTACTS = LISTS + "/CONTACTS"
SEGMENTS = CONTACTS + "/segments"
OTHER = {"X-ApiKey": "other-key:other-secret"}
TODAY = dt.date(2030, 1, 2)  # the sandbox's idea of today in these tests


def _rate_headers(answer: requests.Response) -> tuple[str, str, str]:
    h = answer.headers
    return h["X-RateLimit-Limit"], h["X-RateLimit-Remaining"], h["X-RateLimit-Reset"]


def _error(answer: requests.Response) -> tuple[int, str, str, str]:
    """status, error_code, description, result_code of an error envelope."""
    body = answer.json()
    return (answer.status_code, body["errors"][0]["error_code"],
            body["errors"][0]["description"], body["result_code"])


# 1. The rate limit ----------------------------------------------------------------------------

def test_rate_limit_answers_the_documented_429_per_key_in_a_60_second_window() -> None:
    # Scenario: a key making 3 calls a minute (any path, either header form) gets the 4th
    # refused with the documented shape; the Reset counts down on the sandbox's clock; another
    # key is not limited; once the 60 s from the key's first call are over it may call again.
    clock = StepClock()
    accounts = [DEFAULT_ACCOUNT, ServiceAccount("other-key", "other-secret")]
    with start(requests_per_minute=3, accounts=accounts, faults=Faults(clock=clock)) as sandbox:
        two_headers = {"X-ApiKey": "sandbox-key", "X-ApiKey-Secret": "sandbox-secret"}
        through = [call(sandbox, "GET", "/status"), call(sandbox, "GET", LISTS),
                   call(sandbox, "GET", CONTACTS + "/nothing", headers=two_headers)]
        clock.advance(20)
        over = call(sandbox, "GET", CONTACTS)
        clock.advance(15.5)
        later = call(sandbox, "GET", "/status")
        other = call(sandbox, "GET", "/status", headers=OTHER)
        clock.advance(24.5)  # the window started 60 s ago
        again = call(sandbox, "GET", "/status")
        faults = [e.fault for e in sandbox.log.entries()]
    assert [a.status_code for a in through] == [200, 200, 404]
    assert [_rate_headers(a) for a in through] == [
        ("3, 3;w=60", "2", "60"), ("3, 3;w=60", "1", "60"), ("3, 3;w=60", "0", "60")]
    assert over.status_code == 429
    assert over.headers["Content-Type"].split(";")[0] == "text/plain"
    assert over.text == "API calls quota exceeded! maximum admitted 3 per Minute."
    assert _rate_headers(over) == ("3, 3;w=60", "0", "40")
    assert "Retry-After" not in over.headers
    assert later.status_code == 429 and _rate_headers(later)[2] == "25"  # 24.5 s, rounded up
    assert other.status_code == 200 and _rate_headers(other) == ("3, 3;w=60", "2", "60")
    assert again.status_code == 200 and _rate_headers(again) == ("3, 3;w=60", "2", "60")
    assert faults.count("rate-limited") == 2


def test_the_default_is_the_documented_2500_a_minute_and_none_turns_it_off() -> None:
    # Scenario: 2,500 calls of one key in a minute are let through, the 2,501st is refused
    # with the documented sentence; other keys keep their own 2,500; with no limit, no headers.
    clock = StepClock()
    limiter = RateLimiter(lambda: 2500, Faults(clock=clock))
    key = {"x-apikey": "k:s"}
    admitted = [limiter.admit(key) for _ in range(2500)]
    refused = limiter.admit(key)
    assert all(a.refusal is None for a in admitted)
    assert admitted[-1].headers == {"X-RateLimit-Limit": "2500, 2500;w=60",
                                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}
    assert refused.refusal is not None and refused.refusal.status == 429
    assert refused.refusal.body == b"API calls quota exceeded! maximum admitted 2500 per Minute."
    assert limiter.admit({"x-apikey": "k2:s"}).refusal is None
    clock.advance(60)
    assert limiter.admit(key).headers["X-RateLimit-Remaining"] == "2499"
    with start() as sandbox:
        assert _rate_headers(call(sandbox, "GET", "/status"))[:2] == ("2500, 2500;w=60", "2499")
    with start(requests_per_minute=None) as unlimited:
        assert "X-RateLimit-Limit" not in call(unlimited, "GET", "/status").headers


def test_requests_per_second_fault_is_a_per_key_window_of_the_documented_shape() -> None:
    # Scenario: the generic Faults.requests_per_second knob no longer gives the Actito-style 429
    # with Retry-After: 2 a second become a per-key 1-second window answering the plain-text
    # 429 with X-RateLimit-* headers.
    clock = StepClock()
    accounts = [DEFAULT_ACCOUNT, ServiceAccount("other-key", "other-secret")]
    faults = Faults(requests_per_second=2, clock=clock)
    with start(requests_per_minute=None, accounts=accounts, faults=faults) as sandbox:
        burst = [call(sandbox, "GET", "/status") for _ in range(3)]
        other = call(sandbox, "GET", "/status", headers=OTHER)
        clock.advance(1.0)
        later = call(sandbox, "GET", "/status")
    assert [a.status_code for a in burst] == [200, 200, 429]
    assert burst[2].text == "API calls quota exceeded! maximum admitted 2 per Second."
    assert _rate_headers(burst[2]) == ("2, 2;w=1", "0", "1")
    assert "Retry-After" not in burst[2].headers
    assert other.status_code == 200 and later.status_code == 200


def test_503_under_load_is_the_vendor_envelope() -> None:
    # Scenario: an overloaded API (every call a 503) answers the error envelope.
    with start(faults=Faults(error_ratio=1.0)) as sandbox:
        answer = call(sandbox, "GET", CONTACTS)
    assert answer.status_code == 503
    assert answer.json() == {
        "errors": [{"error_code": "ERR", "description":
                    "The service is temporarily unavailable. Please try again later."}],
        "result_code": "ServiceUnavailable", "message": "Request Failed"}


# 2. The page cap ------------------------------------------------------------------------------

def test_a_tenant_capping_take_answers_at_most_max_take_items_on_every_paged_route() -> None:
    # Scenario: with pages capped at 2, larger takes (and no take) get 2 items from lists,
    # segments and both searches; smaller takes are unchanged; segment_count still counts all.
    with start(max_take=2) as sandbox:
        for i in range(3):
            call(sandbox, "POST", LISTS, json={"api_name": f"L{i}", "name": f"L{i}",
                                               "type": "Datalist"})
            call(sandbox, "POST", SEGMENTS + "/static", json={"api_name": f"S{i}", "name": "S"})
        call(sandbox, "POST", SEGMENTS + "/S0/data/load", params={
            "keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"},
            json=[["C000001"], ["C000002"], ["C000003"]])

        def count(path: str, items: str, take: int | None) -> int:
            params = {} if take is None else {"take": take}
            return len(call(sandbox, "GET", path, params=params).json()[items])

        def found(path: str, take: int | None) -> int:
            body: dict[str, Any] = {"fields": ["EXTERNAL_ID"]}
            if take is not None:
                body["take"] = take
            return len(call(sandbox, "POST", path + "/data/search", json=body).json()["data"])

        assert [count(LISTS, "lists", t) for t in (10, None, 1)] == [2, 2, 1]
        assert [count(SEGMENTS, "segments", t) for t in (10, None, 1)] == [2, 2, 1]
        segments = call(sandbox, "GET", SEGMENTS, params={"take": 10}).json()
        assert segments["segment_count"] == 4  # the seeded dynamic one and S0..S2
        assert [found(CONTACTS, t) for t in (1000, None, 1)] == [2, 2, 1]
        assert [found(SEGMENTS + "/S0", t) for t in (1000, None, 1)] == [2, 2, 1]
    with start() as uncapped:  # the default: no cap
        assert len(call(uncapped, "GET", LISTS, params={"take": 10}).json()["lists"]) == 1


# 3. The record count --------------------------------------------------------------------------

def test_record_count_answers_the_number_of_records_per_the_swagger(
    sandbox: SelligentSandbox,
) -> None:
    # Scenario: GET .../lists/{api_name}/records answers {"count": n}, follows loads, is a
    # 404 for an unknown list, fits the Swagger's List_GetListRecordsCount, and is an endpoint
    # permission of its own.
    seeded = len(contacts(sandbox).records)
    first = call(sandbox, "GET", CONTACTS + "/records")
    call(sandbox, "POST", CONTACTS + "/data/load", params={"keyFields": "EXTERNAL_ID",
         "fields": "EXTERNAL_ID"}, json=[["NEW1"], ["NEW2"], ["C000001"]])
    after = call(sandbox, "GET", CONTACTS + "/records")
    missing = call(sandbox, "GET", LISTS + "/NOPE/records")
    assert first.json() == {"count": seeded} and after.json() == {"count": seeded + 2}
    assert missing.status_code == 404 and missing.json()["result_code"] == "NotFound"
    contract = Contract(load_spec())
    counted = [e for e in sandbox.log.entries() if e.path.endswith("/records")]
    assert [contract.find(e.method, e.path)["operationId"]  # type: ignore[index]
            for e in counted] == ["List_GetListRecordsCount"] * 3
    assert [p for e in counted for p in contract.check(e, request=False)] == []
    counter = ServiceAccount("c", "pw", endpoints=frozenset({"List_GetListRecordsCount"}))
    with start(accounts=[counter, DEFAULT_ACCOUNT]) as limited:
        assert call(limited, "GET", CONTACTS + "/records", headers={"X-ApiKey": "c:pw"}).ok
        refused = call(limited, "GET", CONTACTS, headers={"X-ApiKey": "c:pw"})
        assert refused.status_code == 401


def test_the_swagger_documents_no_count_of_a_segments_members() -> None:
    # Scenario: the only counts near segments are `segment_count` (segments of a list) and the
    # list's record count: no segment member count exists to implement.
    spec = load_spec()
    segment_paths = [p for p in spec["paths"] if "/segments/{segment_api_name}" in p]
    assert not [p for p in segment_paths if p.endswith(("/records", "/count"))]
    details = spec["definitions"]["SegmentDetailsModel"]["properties"]
    assert not [name for name in details if "count" in name]


# 4. Unknown segments --------------------------------------------------------------------------

def _is_segment_not_found(answer: requests.Response) -> bool:
    """How a client tells a missing segment from other errors, whatever the status."""
    body = answer.json()
    return any(e.get("description", "").startswith("Segment ") and
               e["description"].endswith(" not found.") for e in body.get("errors", []))


def test_unknown_segment_answers_404_or_400_as_configured_with_a_telling_body() -> None:
    # Scenario: a missing segment is a 404 (the default) or, on a tenant answering so, a 400
    # with the same description; another 400 on a segment (a dynamic one refusing a load) is
    # told apart by its body. Every route naming the segment answers alike.
    load = {"params": {"keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"}, "json": [["C1"]]}
    with start() as default:
        missing_404 = call(default, "GET", SEGMENTS + "/NOPE")
    with start(unknown_segment_status=400) as tenant:
        missing_400 = call(tenant, "GET", SEGMENTS + "/NOPE")
        search_400 = call(tenant, "POST", SEGMENTS + "/NOPE/data/search",
                          json={"fields": ["EXTERNAL_ID"]})
        dynamic = call(tenant, "POST", SEGMENTS + "/BELGIAN_CONTACTS/data/load", **load)
        found = call(tenant, "GET", SEGMENTS + "/BELGIAN_CONTACTS")
    assert _error(missing_404) == (404, "ERR", "Segment NOPE not found.", "NotFound")
    assert _error(missing_400) == (400, "ERR_LIST_VALIDATION", "Segment NOPE not found.",
                                   "ValidationFailed")
    assert _error(search_400) == _error(missing_400)
    assert dynamic.status_code == 400 and found.status_code == 200
    assert [_is_segment_not_found(a) for a in (missing_404, missing_400, dynamic)] == [
        True, True, False]
    with pytest.raises(ValueError, match="unknown_segment_status"):
        start(unknown_segment_status=500)


# 5. The inbound time limit --------------------------------------------------------------------

def _load_rows(sandbox: SelligentSandbox, count: int, **kwargs: Any) -> requests.Response:
    rows = [[f"T{i:06d}", f"t{i}@x.test"] for i in range(count)]
    return call(sandbox, "POST", CONTACTS + "/data/load", params={
        "keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID,MAIL"}, json=rows, **kwargs)


def test_a_load_slower_than_the_inbound_limit_is_cut_without_an_answer() -> None:
    # Scenario: at 1 s per 1,000 rows and a 0.3 s limit, a 10,000-row load (10 s of work) gets
    # no answer: the connection is closed once 0.3 s have passed. Its rows were applied (only
    # the answer is lost); 100 rows (0.1 s) are answered after their time.
    with start(inbound_limit_seconds=0.3, seconds_per_1000_rows=1.0) as sandbox:
        before = len(contacts(sandbox).records)
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            _load_rows(sandbox, 10_000)
        cut_after = time.monotonic() - started
        started = time.monotonic()
        small = call(sandbox, "POST", CONTACTS + "/data/load", params={
            "keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"},
            json=[[f"S{i}"] for i in range(100)])
        small_took = time.monotonic() - started
        with pytest.raises(requests.ConnectionError):  # 1,000 deletes: 1 s of work, cut too
            call(sandbox, "DELETE", CONTACTS + "/data", params={
                "keyFields": "EXTERNAL_ID", "fields": "EXTERNAL_ID"},
                json=[[f"T{i:06d}"] for i in range(1000)])
        count = call(sandbox, "GET", CONTACTS + "/records").json()["count"]
        log = [(e.status, e.fault) for e in sandbox.log.entries()]
    assert 0.3 <= cut_after < 2.0
    assert small.status_code == 200 and small_took >= 0.1
    assert count == before + 10_000 + 100 - 1000
    assert log == [(0, "cut"), (200, None), (0, "cut"), (200, None)]


def test_latency_alone_over_the_inbound_limit_is_cut_and_a_none_limit_never_cuts() -> None:
    # Scenario: 500 ms of latency against a 0.3 s limit: no answer after 0.3 s; the same call
    # with no limit is answered.
    with start(inbound_limit_seconds=0.3, faults=Faults(latency_ms=500)) as sandbox:
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            call(sandbox, "GET", "/status")
        assert 0.3 <= time.monotonic() - started < 0.5
        sandbox.config.inbound_limit_seconds = None
        assert call(sandbox, "GET", "/status").status_code == 200


# 6. Service accounts --------------------------------------------------------------------------

def test_expired_key_refused_ip_and_missing_permission_have_three_distinct_bodies() -> None:
    # Scenario: on 2030-01-02 a key that expired on 2030-01-01 is refused (one expiring that
    # day still works), a call from 127.0.0.1 with a key allowed only 203.0.113.0/24 is refused
    # (one allowing 127.0.0.1 works), and a key without the endpoint gets the documented 401:
    # three bodies a client can tell apart.
    accounts = [
        ServiceAccount("old", "pw", expires_on=dt.date(2030, 1, 1)),
        ServiceAccount("last-day", "pw", expires_on=TODAY),
        ServiceAccount("far", "pw", allowed_ips=frozenset({"203.0.113.0/24"})),
        ServiceAccount("near", "pw", allowed_ips=frozenset({"127.0.0.1", "10.0.0.0/8"})),
        ServiceAccount("ro", "pw", endpoints=frozenset({"List_GetLists"})),
    ]
    with start(accounts=accounts, today=lambda: TODAY) as sandbox:
        def get(key: str) -> requests.Response:
            return call(sandbox, "GET", CONTACTS, headers={"X-ApiKey": f"{key}:pw"})

        expired, last_day, far, near, no_permission = (get(a.key) for a in accounts)
        wrong_secret = call(sandbox, "GET", CONTACTS, headers={"X-ApiKey": "old:nope"})
    assert _error(expired) == (401, "ERR_APIKEY_EXPIRED", "The API key expired on 2030-01-01.",
                               "Failed")
    assert _error(far) == (401, "ERR_APIKEY_IPNOTALLOWED",
                           "Requests from IP address 127.0.0.1 are not allowed for this API key.",
                           "Failed")
    assert no_permission.status_code == 401 and no_permission.json() == "unauthorized."
    assert wrong_secret.json() == "unauthorized."  # the secret is checked before the expiry
    assert last_day.status_code == 200 and near.status_code == 200
    assert len({a.text for a in (expired, far, no_permission)}) == 3
    with pytest.raises(ValueError):
        ServiceAccount("bad", "pw", allowed_ips=frozenset({"not an address"}))


def test_keys_never_expire_by_default_and_the_default_key_still_works(
    sandbox: SelligentSandbox,
) -> None:
    # Scenario: accounts without an expiry date or IP filter are unaffected.
    assert call(sandbox, "GET", CONTACTS).status_code == 200
    assert requests.get(sandbox.url + CONTACTS, headers=KEY, timeout=5).ok
