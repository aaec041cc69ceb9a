"""The shared sandbox HTTP machinery: routing, faults, limits and the request log."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from reconciler.sandbox.http import Faults, Request, Response, Router, SandboxServer
from tests.timing import StepClock, wait_until


def _router() -> Router:
    router = Router(lambda status, code, message: {"code": code, "message": message})
    router.add("GET", "/things/{name}", lambda r: Response(200, {"name": r.params["name"]}))
    router.add("POST", "/things", lambda r: Response(201, r.json()))
    return router


def test_routes_params_case_insensitively_and_logs() -> None:
    # Scenario: a client calls a route with other casing and a URL-encoded parameter.
    with SandboxServer(_router()) as server:
        answer = requests.get(f"{server.url}/THINGS/a%20b", timeout=5)
        created = requests.post(f"{server.url}/things", json={"x": 1}, timeout=5)
        missing = requests.get(f"{server.url}/nothing", timeout=5)
        wrong = requests.delete(f"{server.url}/things/a", timeout=5)
    assert answer.json() == {"name": "a b"}
    assert created.status_code == 201 and created.json() == {"x": 1}
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    assert wrong.status_code == 405
    assert [e.status for e in server.log.entries()] == [200, 201, 404, 405]
    assert server.log.entries()[1].request_json() == {"x": 1}


def test_requests_per_second_limit_answers_429_with_retry_after() -> None:
    # Scenario: a burst above the per-second limit is refused with Retry-After.
    with SandboxServer(_router(), faults=Faults(requests_per_second=2)) as server:
        statuses = [requests.get(f"{server.url}/things/a", timeout=5) for _ in range(4)]
    assert [r.status_code for r in statuses[:2]] == [200, 200]
    assert statuses[2].status_code == 429 and statuses[2].headers["Retry-After"] == "1"


def test_rate_limit_counts_requests_when_they_start_not_when_their_body_arrives() -> None:
    # Scenario: at 1 request/second, a slow upload starts first and a quick one 1.1 s later;
    # the slow body arrives last, yet both were sent a second apart: neither is refused.
    clock, rest_of_body = StepClock(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield b'{"x": '
        rest_of_body.wait(10)
        yield b"1}"

    with SandboxServer(_router(), faults=Faults(requests_per_second=1, clock=clock)) as server:
        statuses: list[int] = []
        slow = threading.Thread(target=lambda: statuses.append(
            requests.post(f"{server.url}/things", data=slow_body(), timeout=5).status_code))
        slow.start()
        clock.wait_for_readings(1)  # the slow request's headers arrived and were counted
        clock.advance(1.1)
        quick = requests.post(f"{server.url}/things", json={"x": 2}, timeout=5)
        clock.advance(0.4)
        rest_of_body.set()  # the slow body arrives last
        slow.join()
        over = requests.get(f"{server.url}/things/a", timeout=5)  # 0.4 s after the quick one
    assert statuses == [201] and quick.status_code == 201
    assert over.status_code == 429 and over.headers["Retry-After"] == "1"


def test_rate_limit_lets_a_burst_through_then_refills_at_the_rate() -> None:
    # Scenario: 1 request/second with a burst of 3: three at once pass, the fourth waits.
    clock = StepClock()
    faults = Faults(requests_per_second=1, burst=3, clock=clock)
    with SandboxServer(_router(), faults=faults) as server:
        burst = [requests.get(f"{server.url}/things/a", timeout=5).status_code for _ in range(4)]
        clock.advance(1.05)
        later = requests.get(f"{server.url}/things/a", timeout=5).status_code
    assert burst == [200, 200, 200, 429] and later == 200


def test_error_ratio_and_drops_are_reproducible() -> None:
    # Scenario: with every request failing, errors are 503 and drops close the connection.
    with SandboxServer(_router(), faults=Faults(error_ratio=1.0)) as server:
        assert requests.get(f"{server.url}/things/a", timeout=5).status_code == 503
    with (
        SandboxServer(_router(), faults=Faults(drop_ratio=1.0)) as server,
        pytest.raises(requests.ConnectionError),
    ):
        requests.get(f"{server.url}/things/a", timeout=5)
    assert server.log.entries()[0].fault == "dropped"


def test_max_in_flight_refuses_the_extra_concurrent_request() -> None:
    # Scenario: three slow concurrent requests against a limit of two: one gets 429.
    # The admitted requests are held until the extra one was refused: all three overlap.
    refused = threading.Event()
    faults = Faults(max_in_flight=2, before_answer=lambda _: refused.wait(30))
    with SandboxServer(_router(), faults=faults) as server:
        results: list[int] = []
        def call() -> None:
            results.append(requests.get(f"{server.url}/things/a", timeout=5).status_code)
        threads = [threading.Thread(target=call) for _ in range(3)]
        for t in threads:
            t.start()
        wait_until(lambda: 429 in results, "the extra request was refused", timeout=5)
        refused.set()
        for t in threads:
            t.join()
    assert sorted(results) == [200, 200, 429]


def test_request_object_reads_query_case_insensitively() -> None:
    # Scenario: ASP.NET-style case-insensitive query parameters.
    request = Request("GET", "/", {"Skip": ["5"]}, {}, b"")
    assert request.arg("skip") == "5" and request.arg("take", "10") == "10"
