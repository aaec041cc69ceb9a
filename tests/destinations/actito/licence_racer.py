"""A separate process calling one Actito licence, as a matrix job would, for the licence tests.

Run as `python -m tests.destinations.actito.licence_racer URL STATE CALLS THREADS PER_MINUTE`:
shares the request budgets of the PostgreSQL state at STATE (as plan and apply do), then sends
CALLS reads of the profile table list from THREADS threads through one client whose licence
share is 4 in flight and PER_MINUTE calls a minute; prints `done`.
"""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from reconciler.destinations.actito import ActitoLimits
from reconciler.destinations.actito.client import ActitoClient
from reconciler.operations.budgets import shared_request_budgets

# The documented table list (actito-evidence.md: profile-table-structure, [C]).
TABLES = "/profile-table-structure/v5/entities/sandbox/profile-tables"


def main(url: str, state: str, calls: int, threads: int, per_minute: float) -> None:
    with shared_request_budgets(state):
        client = ActitoClient(url, "sandbox-api-key", "sandbox",
                              limits=ActitoLimits(max_in_flight=4, calls_per_minute=per_minute))
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda _: client.call("GET", TABLES, call="GET profile tables",
                                                subject="entity sandbox"), range(calls)))
    print("done", flush=True)


if __name__ == "__main__":
    url, state, calls, threads, per_minute = sys.argv[1:]
    main(url, state, int(calls), int(threads), float(per_minute))
