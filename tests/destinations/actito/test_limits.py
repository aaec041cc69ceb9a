"""Actito's limits: 5 in flight (429 beyond), the client's gate, the bulk quota, the file cap."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests

from reconciler.destinations.actito import ActitoLimits
from reconciler.destinations.actito.client import IMPORT_START_429_TRIES
from reconciler.destinations.errors import PermanentApiError, QuotaExceededError
from reconciler.sandbox.actito import ActitoSandbox
from reconciler.sandbox.http import Request
from tests.destinations.actito.conftest import make_adapter, make_client, profile
from tests.timing import wait_until


def _token(sandbox: ActitoSandbox) -> str:
    answer = requests.get(f"{sandbox.url}/auth/token", timeout=5,
                          headers={"Authorization": "sandbox-api-key"})
    return str(answer.json()["accessToken"])


def test_a_sixth_concurrent_request_gets_429(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: six slow requests at once against a licence allowing five in flight.
    sandbox = start()
    headers = {"Authorization": f"Bearer {_token(sandbox)}"}
    statuses: list[int] = []
    # The five admitted are held until the sixth was refused: all six overlap.
    refused = threading.Event()
    sandbox.faults.before_answer = lambda _: refused.wait(30)

    def call() -> None:
        url = f"{sandbox.url}/profiles/v5/entities/sandbox/profile-tables/16/profiles/1"
        statuses.append(requests.get(url, headers=headers, timeout=5).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: 429 in statuses, "the sixth request was refused", timeout=5)
    refused.set()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [429]


def test_the_client_never_has_more_than_five_in_flight(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: 40 key lookups run on 5 threads of the adapter plus 3 more clients of the licence.
    sandbox = start(latency_ms=30)
    adapter = make_adapter(sandbox)
    keys = [f"C{n:06d}" for n in range(1, 41)]
    others = [make_client(sandbox) for _ in range(3)]
    threads = [threading.Thread(target=lambda c=c: [c.profile_table("Profiles") for _ in range(5)])
               for c in others]
    for thread in threads:
        thread.start()
    found = adapter._looked_up("customerId", set(keys))
    for thread in threads:
        thread.join()
    assert len(found) >= 35
    entries = sandbox.log.entries()
    assert len(entries) >= 55
    assert max(e.in_flight for e in entries) == 5
    assert all(e.status != 429 for e in entries)


def test_the_pacer_spreads_calls_over_the_window(sandbox: ActitoSandbox) -> None:
    # Scenario: a budget of 4 calls per half second makes 12 calls take over a second.
    client = make_client(sandbox, limits=ActitoLimits(calls_per_minute=4, window_seconds=0.5))
    started = time.monotonic()
    for _ in range(11):  # plus the token call
        client.profile_table("Profiles")
    assert time.monotonic() - started >= 1.0


def test_the_daily_bulk_quota_gives_a_clear_error(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: a licence with 2 imports a day per table runs a third update. Actito's 429
    # says nothing of the quota (the sandbox's neither): a 429 that stays on the import start
    # through a few quick tries is taken for it, whatever its body.
    sandbox = start(bulk_imports_per_day=2)
    adapter = make_adapter(sandbox)
    for value in ("One", "Two"):
        adapter.update_profiles("customerId", ["firstName"], [("C000001", value)])
    sandbox.log.clear()
    with pytest.raises(QuotaExceededError) as exhausted:
        adapter.update_profiles("customerId", ["firstName"], [("C000001", "Three")])
    assert "quota" in str(exhausted.value) and "Profiles" in str(exhausted.value)
    assert exhausted.value.status == 429
    refusals = [e for e in sandbox.log.entries() if e.path.endswith("/etl-executions")]
    assert [e.status for e in refusals] == [429] * IMPORT_START_429_TRIES
    assert not [e for e in refusals if b"quota" in e.response_body.lower()]
    assert profile(sandbox, "C000001")["firstName"] == "Two"  # type: ignore[index]


def test_a_429_that_clears_on_retry_is_not_the_quota(sandbox: ActitoSandbox) -> None:
    # Scenario: the first import start gets a 429 (busy), the retry goes through: the update
    # is applied and nothing is taken for the quota.
    tries: list[int] = []

    def busy_once(request: Request) -> None:
        if request.method == "POST" and request.path.endswith("/etl-executions"):
            tries.append(1)
            sandbox.config.bulk_imports_per_day = 0 if len(tries) == 1 else 24

    sandbox.faults.before_answer = busy_once
    report = make_adapter(sandbox).update_profiles("customerId", ["firstName"],
                                                   [("C000001", "Retried")])
    assert len(tries) == 2 and report.updated == 1
    assert profile(sandbox, "C000001")["firstName"] == "Retried"  # type: ignore[index]


def test_files_over_the_cap_are_400_and_the_adapter_splits(
    start: Callable[..., ActitoSandbox],
) -> None:
    # Scenario: a 6 kB file cap; a raw oversize upload is refused, the adapter splits its rows.
    sandbox = start(max_file_bytes=6000)
    client = make_client(sandbox)
    big = sandbox.config.data_dir / "big.csv"
    big.write_bytes(b"customerId,firstName\n" + b"C000001,x\n" * 1000)
    with pytest.raises(PermanentApiError) as refused:
        client.start_etl({"table": "Profiles", "mode": "UPDATE_ONLY",
                          "keyAttribute": "customerId"}, big)
    assert refused.value.status == 400
    rows = [(f"C{n:06d}", f"Name-{n}-{'x' * 40}") for n in range(1, 401)]
    report = make_adapter(sandbox, max_file_bytes=6000).update_profiles(
        "customerId", ["firstName"], rows)
    assert report.executions > 1
    assert report.lines == 400 and report.updated + report.rejected == 400
    assert profile(sandbox, "C000400")["firstName"].startswith("Name-400-")  # type: ignore[index]


def test_calls_over_the_minute_budget_slow_down_and_are_not_refused(
    start: Callable[..., ActitoSandbox],
) -> None:
    # Scenario: a licence allowing 60 calls a minute receives 63 quick calls.
    sandbox = start(calls_per_minute=60)
    client = make_client(sandbox)
    for _ in range(61):  # plus the token call and the table list (the id, read once)
        client.profile_table("Profiles")
    entries = sandbox.log.entries()
    assert all(e.status == 200 for e in entries)
    assert [e.duration_ms >= 900 for e in entries[-4:]] == [False, True, True, True]
