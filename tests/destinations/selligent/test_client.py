"""The Selligent client against the sandbox: paging, chunking, retries, errors, partial success."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from reconciler.destinations.errors import (
    AuthenticationError,
    PermanentApiError,
    TransientApiError,
    UnreachableError,
)
from reconciler.destinations.selligent import SelligentClient, SelligentLimits
from reconciler.destinations.selligent.errors import SelligentNotFoundError
from reconciler.sandbox.http import Faults, Request, Response, Router, SandboxServer
from reconciler.sandbox.selligent import SelligentSandbox
from tests.destinations.selligent.harness import FAST, LIST, ORG, contacts, start
from tests.timing import StepClock


def _client(sandbox: SelligentSandbox, **limits: Any) -> SelligentClient:
    return SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret",
                           SelligentLimits(**{**vars(FAST), **limits}))


def _calls(sandbox: SelligentSandbox, suffix: str) -> list[int]:
    return [e.status for e in sandbox.log.entries() if e.path.endswith(suffix)]


def test_paging_until_a_short_page(sandbox: SelligentSandbox) -> None:
    # Scenario: a search over 4,750 contacts with take=2000 (no record count given): 3 pages,
    # the last one short, then an empty one (a short page is not the end: `take` may be
    # capped), each `skip` what was received.
    client = _client(sandbox, page_size=2000)
    pages = list(client.search_list_data(ORG, LIST, ["EXTERNAL_ID"]))
    assert [len(p) for p in pages] == [2000, 2000, len(contacts(sandbox).records) - 4000]
    bodies = [e.request_json() for e in sandbox.log.entries() if e.path.endswith("/data/search")]
    assert [(b["skip"], b["take"]) for b in bodies] == [(0, 2000), (2000, 2000), (4000, 2000),
                                                        (4750, 2000)]
    for i in range(3):
        client.create_list(ORG, f"L{i}", f"List {i}", "Datalist")
    assert [item["api_name"] for item in _client(sandbox, page_size=2).iter_lists(ORG)] == [
        "CONTACTS", "L0", "L1", "L2"]


def test_chunking_25001_rows_at_a_10000_row_limit_takes_3_calls() -> None:
    # Scenario: 25,001 rows at the sandbox's 10,000-row limit are sent in 3 calls.
    with start(max_rows_per_load=10_000, seed_file=None) as sandbox:
        client = _client(sandbox, max_rows_per_call=10_000, initial_rows_per_call=10_000,
                         max_bytes_per_call=50_000_000)
        rows = ([f"K{i:06d}", f"k{i}@x.test"] for i in range(25_001))
        result = client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "MAIL"], rows)
        sizes = [len(e.request_json()) for e in sandbox.log.entries()
                 if e.path.endswith("/data/load")]
    assert sizes == [10_000, 10_000, 5_001]
    assert result.calls == 3 and result.inserted == 25_001 and result.failed == 0


def test_chunks_are_sent_concurrently_up_to_max_in_flight() -> None:
    # Scenario: 8 chunks with 4 calls in flight (each held until 4 are) arrive out of order but
    # are summed in order, and no more than 4 calls ever overlap.
    four = threading.Barrier(4)  # a load is answered once 4 are in flight: they overlap

    def hold_until_four(request: Request) -> None:
        if request.path.endswith("/data/load"):
            four.wait(30)

    with start(faults=Faults(before_answer=hold_until_four)) as sandbox:
        client = _client(sandbox, max_rows_per_call=10, max_in_flight=4)
        rows = ([f"C{i:06d}", "x"] for i in range(1, 81))
        result = client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "MAIL"], rows,
                                       import_option="OnlyUpdate")
        loads = [e for e in sandbox.log.entries() if e.path.endswith("/data/load")]
    assert result.calls == 8 and result.updated + result.not_found == 80
    assert max(e.in_flight for e in loads) == 4  # overlap seen by the server, not timed
    with start(faults=Faults(error_ratio=1.0)) as failing:
        client = SelligentClient(failing.url, "sandbox-key", "sandbox-secret", SelligentLimits(
            **{**vars(FAST), "max_rows_per_call": 1, "max_in_flight": 3, "max_attempts": 1}))
        with pytest.raises(TransientApiError):
            client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID"],
                                  ([str(i)] for i in range(50)))
        assert len(failing.log.entries()) < 10


def test_concurrent_loads_paced_under_the_budget_are_never_refused() -> None:
    # Scenario: 12 loads, 4 at a time, alternately large and tiny bodies, against a server
    # allowing 4 requests a second; the client's budget is those 4/s: no load meets a 429
    # (each one costs its budget slot once; one may for jitter, below) and they take about 12
    # slots of the budget.
    big, tiny = "x" * 50, ""
    rows = ([f"C{i:06d}", big if (i - 1) // 300 % 2 == 0 else tiny] for i in range(1, 3601))
    with start(faults=Faults(requests_per_second=4, latency_ms=20)) as sandbox:
        client = _client(sandbox, max_rows_per_call=300, max_in_flight=4,
                         requests_per_second=4)
        started = time.monotonic()
        result = client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "NAME"], rows,
                                       import_option="OnlyUpdate")
        elapsed = time.monotonic() - started
        statuses = _calls(sandbox, "/data/load")
    # The pacer leaves 2% of slack: 20 ms over a 1-s window. A load held up more than that on a
    # busy machine (4 threads and the server in one process) lands in the window before its own,
    # as network jitter would with the real service: at most one such 429 is retried. A load
    # counted twice, or loads not paced, would meet one 429 in every few calls.
    assert result.calls == 12 and statuses.count(200) == 12 and statuses.count(429) <= 1
    # Never faster than the budget; the upper bound only catches a pace gone wrong (a loaded
    # machine stretches the wall time, so it is generous).
    assert 11 / 4 <= elapsed < 11 / 4 * 3


def test_chunking_by_bytes(sandbox: SelligentSandbox) -> None:
    # Scenario: a byte limit splits rows before the row limit does; each body fits the limit.
    client = _client(sandbox, max_rows_per_call=1000, max_bytes_per_call=2000)
    keys = [f"C{i:06d}" for i in range(1, 301)]
    client.create_static_segment(ORG, LIST, "S", "S")
    client.load_segment_data(ORG, LIST, "S", ["EXTERNAL_ID"], ["EXTERNAL_ID"], ([k] for k in keys))
    loads = [e for e in sandbox.log.entries() if e.path.endswith("/S/data/load")]
    assert len(loads) > 1 and all(len(e.request_body) <= 2000 for e in loads)
    assert sum(len(e.request_json()) for e in loads) == 300
    with pytest.raises(PermanentApiError, match="over the 2000-byte limit"):
        client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "MAIL"],
                              [["X", "x" * 3000]])


def test_retry_on_429_waits_for_x_ratelimit_reset() -> None:
    # Scenario: a key over its 2 requests a minute gets the documented 429 (plain text,
    # X-RateLimit-Reset, no Retry-After, §8); the client waits out the window and retries.
    clock = StepClock()  # the sandbox's limit counts on it; the client's waits move it
    with start(requests_per_minute=2, faults=Faults(clock=clock)) as sandbox:
        client = SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret", FAST,
                                 sleep=clock.sleep)
        for _ in range(3):
            client.get_fields(ORG, LIST)
            clock.advance(10)
        statuses = [e.status for e in sandbox.log.entries()]
    assert statuses == [200, 200, 429, 200]
    assert len(clock.slept) == 1 and 40.0 <= clock.slept[0] < 41.0  # Reset: 60 - 20 s used


class _Flaky(Router):
    """Answers the first `failures` calls with `status` (and Retry-After), then delegates."""

    def __init__(self, inner: Router, status: int, failures: int, retry_after: str | None) -> None:
        super().__init__(inner.error_body)
        self.inner, self.status, self.failures = inner, status, failures
        self.retry_after = retry_after

    def dispatch(self, request: Request) -> Response:
        if self.failures > 0:
            self.failures -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return Response(self.status, self.error_body(self.status, "ERR", "busy"), headers)
        return self.inner.dispatch(request)


def test_retry_on_503_with_retry_after_and_no_retry_on_400(sandbox: SelligentSandbox) -> None:
    # Scenario: two 503s with Retry-After: 0 are retried; a 400 is raised at once, naming the call.
    waits: list[float] = []
    flaky = _Flaky(sandbox.server.router, 503, 2, "0")
    with SandboxServer(flaky) as server:
        client = SelligentClient(server.url + "/Portal/Api", "sandbox-key", "sandbox-secret", FAST,
                                 sleep=waits.append)
        assert client.get_list(ORG, LIST)["api_name"] == LIST
        assert [e.status for e in server.log.entries()] == [503, 503, 200]
        assert len(waits) == 2 and all(0 <= w < 0.1 for w in waits)
        with pytest.raises(PermanentApiError) as refused:
            client.create_list(ORG, "bad name", "x")
        statuses = [e.status for e in server.log.entries()]
        assert statuses[-1] == 400 and len(statuses) == 4
    message = str(refused.value)
    assert "POST /organizations/SANDBOX/lists" in message and "ERR_LIST_VALIDATION" in message
    assert "HTTP 400" in message and "sandbox-secret" not in message


def test_gives_up_after_max_attempts_and_retries_dropped_connections(
    sandbox: SelligentSandbox,
) -> None:
    # Scenario: always-503 ends in TransientApiError; dropped connections are retried.
    with SandboxServer(_Flaky(sandbox.server.router, 503, 99, None)) as server:
        client = SelligentClient(server.url + "/Portal/Api", "k", "s",
                                 SelligentLimits(**{**vars(FAST), "max_attempts": 3}))
        with pytest.raises(TransientApiError):
            client.get_status()
        assert len(server.log.entries()) == 3
    with start(faults=Faults(drop_ratio=0.5, seed=3)) as dropping:
        client = _client(dropping)
        for _ in range(5):
            client.get_status()
        assert "dropped" in [e.fault for e in dropping.log.entries()]


def test_a_refused_connection_fails_after_one_retry_naming_the_url() -> None:
    # Scenario: baseUrl names a port nothing listens on: one retry (FAST allows 8 attempts
    # for what may pass), then an error naming the URL and host:port, never the secret.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    client = SelligentClient(f"http://127.0.0.1:{port}/Portal/Api", "sandbox-key",
                             "sandbox-secret", FAST, sleep=waits.append)
    with pytest.raises(UnreachableError) as caught:
        client.get_organization(ORG)
    assert len(waits) == 1
    assert (f"cannot connect to http://127.0.0.1:{port}/Portal/Api (127.0.0.1:{port}): "
            "connection refused; check the destination's baseUrl") in str(caught.value)
    assert "sandbox-secret" not in str(caught.value)


def test_errors_name_the_call_and_the_resource(client: SelligentClient) -> None:
    # Scenario: a wrong key, an unknown segment and a 200 envelope are mapped to our exceptions.
    bad = SelligentClient(client.transport.base_url, "sandbox-key", "nope", FAST)
    with pytest.raises(AuthenticationError, match="HTTP 401"):
        bad.get_organization(ORG)
    with pytest.raises(SelligentNotFoundError, match="segment NOPE") as missing:
        client.get_segment(ORG, LIST, "NOPE")
    assert missing.value.status == 404
    assert "organization SANDBOX, list CONTACTS" in str(missing.value)


def test_partial_success_is_surfaced_with_invalid_records(client: SelligentClient) -> None:
    # Scenario: refused rows come back as invalid records, indexed over all chunks.
    small = SelligentClient(client.transport.base_url, "sandbox-key", "sandbox-secret",
                            SelligentLimits(**{**vars(FAST), "max_rows_per_call": 2}))
    rows = [["P1", "0"], ["P2", "0"], ["P3", "zero"], ["P4", "1"]]
    result = small.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "OPTOUT"], rows)
    assert result.partially_succeeded and result.inserted == 3 and result.calls == 2
    assert [(r.record_index, r.validation_code, r.field_name) for r in result.invalid_records] == [
        (2, "InvalidType", "OPTOUT")]


def test_body_over_the_server_limit_is_a_413_without_retry() -> None:
    # Scenario: a server body limit below the client's chunk size gets a 413, not retried.
    with start(faults=Faults(max_body_bytes=100)) as sandbox:
        client = _client(sandbox)
        with pytest.raises(PermanentApiError, match="HTTP 413"):
            client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "MAIL"],
                                  [[f"C{i:06d}", "someone@example.test"] for i in range(20)])
        assert [e.status for e in sandbox.log.entries()] == [413]
