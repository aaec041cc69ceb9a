"""Actito's licence limits held by two processes at once on one PostgreSQL state (matrix jobs).

Actito documents 5 requests in flight per licence (a 6th gets 429) and 100 calls a minute per
licence (actito-evidence.md, limits table, [C]). Two processes with 4 threads each would have 8
in flight and send in bursts on their own; sharing the state's ledger they keep 4 in flight
together and one schedule of calls.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from reconciler.sandbox.actito import ActitoSandbox
from reconciler.state import open_state_store

REPO = Path(__file__).resolve().parents[3]
PER_MINUTE = 600.0  # 10 calls a second for both processes together: the test stays short


def test_two_processes_share_the_licence_in_flight_and_pace(
    start: Callable[..., ActitoSandbox], postgres_url: str, postgres_schema: str
) -> None:
    sandbox = start(latency_ms=40)  # slow enough answers for calls to overlap
    state = f"{postgres_url}{'&' if '?' in postgres_url else '?'}schema={postgres_schema}"
    open_state_store(state).close()  # migrated, as apply leaves it
    racers = [subprocess.Popen(
        [sys.executable, "-m", "tests.destinations.actito.licence_racer", sandbox.url, state,
         "15", "4", str(PER_MINUTE)], stdout=subprocess.PIPE, text=True, cwd=REPO)
        for _ in range(2)]
    outputs = [racer.communicate(timeout=120)[0] for racer in racers]
    assert all(racer.returncode == 0 for racer in racers) and all("done" in o for o in outputs)
    calls = [e for e in sandbox.log.entries() if e.path.endswith("/profile-tables")]
    assert len(calls) == 30
    assert all(e.status == 200 for e in calls)  # no 429: never a 6th in flight
    assert max(e.in_flight for e in sandbox.log.entries()) <= 4
    # One schedule for both: 30 calls at 10 a second span at least 29 spacings (each process
    # alone would send its 15 in a burst: its own window allows 600 a minute).
    starts = sorted(e.time for e in calls)
    assert starts[-1] - starts[0] >= 29 * 60 / PER_MINUTE * 0.95
