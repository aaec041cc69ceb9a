"""What a plan costs at Selligent over real HTTP: the sandbox serving N contacts.

    .venv/bin/python -m bench.observe_http                  # 10M contacts, 1M members
    .venv/bin/python -m bench.observe_http --quick          # 100k contacts, 10k members
    .venv/bin/python -m bench.observe_http --contacts 1m --members 100k

`bench/observe.py` models the destinations; this one serves Selligent for real: the Selligent
sandbox runs in this process on 127.0.0.1 with its documented limit (2,500 requests a minute
per key: a 429 above it) and 20 ms added to every answer, its contact list filled straight
into its store (no API call) with the same generated contacts — in a spawned process of its
own, so server and client do not share an interpreter lock —, and the real client, adapter
and observer read it (`SelligentObserver`, paced by the destination's documented budget,
pages read in parallel as §8 allows). The index code and the DuckDB state store are the real
ones (`observe.index_plan`). Requests are counted by the sandbox, times are wall clock (code
and API overlap, as in production). Three plans as in `observe.py`: first (empty state),
steady after a round of 1% churn with new contacts created at the destination, --refresh.
Actito is not served here: its full read is the daily export file, one download (see
`observe.py`), and its per-key lookups are paced at 100 a minute, which `observe.py` costs.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from bench.observe import NOW, SELLIGENT, PlanCost, generate, index_plan, sizes
from reconciler.destinations.factory import open_selligent_adapter
from reconciler.destinations.selligent.observer import SelligentObserver
from reconciler.manifests.models import SelligentDestination
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.selligent import (
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)
from reconciler.sandbox.selligent.app import DEFAULT_ACCOUNT
from reconciler.state import open_state_store

ORGANIZATION, LIST, KEY = "BENCH", "CONTACTS", "EXTERNAL_ID"
ANSWER_SECONDS = 600  # filling 10M records takes about 45 s


def start(latency: float) -> SelligentSandbox:
    """The sandbox, in memory, at its documented 2,500 requests a minute, `latency` added."""
    return start_selligent_sandbox(SelligentSandboxConfig(
        port=0, data_dir=None, seed_file=None, organization=ORGANIZATION,
        list_api_name=LIST, key_field=KEY, faults=Faults(latency_ms=latency * 1000)))


def fill(sandbox: SelligentSandbox, database: Path, already: int = 0) -> int:
    """Insert the contacts of `database` past the first `already` into the list, straight
    into the store (the sandbox keeps a dict per record); how many it now holds."""
    table = sandbox.store.organization(ORGANIZATION).list(LIST)  # type: ignore[union-attr]
    assert table is not None
    with duckdb.connect(str(database), read_only=True) as conn:
        cursor = conn.execute(f"SELECT member_key FROM contacts OFFSET {already}")
        with sandbox.store.lock:
            while rows := cursor.fetchmany(100_000):
                for (key,) in rows:
                    table.insert({KEY: key})
    return len(table.records)


def observer(url: str) -> SelligentObserver:
    """The real observer of a destination manifest aimed at the sandbox."""
    os.environ["BENCH_SELLIGENT_KEY"] = DEFAULT_ACCOUNT.key
    os.environ["BENCH_SELLIGENT_SECRET"] = DEFAULT_ACCOUNT.secret
    spec = SelligentDestination.model_validate({
        "type": "selligent", "baseUrl": url, "organization": ORGANIZATION,
        "list": LIST, "credentials": {"apiKey": "${env:BENCH_SELLIGENT_KEY}",
                                      "apiSecret": "${env:BENCH_SELLIGENT_SECRET}"},
        "limits": {"budgetShare": 1}})  # the whole key: no other integration (as observe.py)
    return SelligentObserver(open_selligent_adapter("bench-selligent", spec))


class Served:
    """The sandbox in a child process of its own (spawned: it fills its store from the
    generated files), so its serving and the client's reading do not share one interpreter
    lock, as a real server and its client do not. Driven through a pipe."""

    def __init__(self, latency: float) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: the parent has threads
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, latency), daemon=True)
        self._process.start()
        self.url: str = self._pipe.recv()

    def ask(self, *command: object) -> Any:
        self._pipe.send(command)
        if not self._pipe.poll(ANSWER_SECONDS):
            raise TimeoutError(f"the sandbox's process did not answer {command[0]!r} in "
                               f"{ANSWER_SECONDS} s")
        answer = self._pipe.recv()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def stop(self) -> None:
        self.ask("stop")
        self._process.join(timeout=30)


def _serve(pipe: Any, latency: float) -> None:
    sandbox = start(latency)
    pipe.send(sandbox.url)
    while True:
        command, *args = pipe.recv()
        try:
            if command == "fill":
                pipe.send(fill(sandbox, Path(args[0]), int(args[1])))
            elif command == "count":  # the requests served since the last count
                entries = sandbox.log.entries()
                sandbox.log.clear()
                pipe.send((len(entries), sum(1 for e in entries if e.status == 429)))
            else:
                sandbox.stop()
                pipe.send(None)
                return
        except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
            pipe.send(exc)


def plan(served: Served, database: Path, state: Path, what: str, now: dt.datetime,
         refresh: bool) -> PlanCost:
    served.ask("count")
    destination = observer(served.url)
    try:
        seconds, matched, said = index_plan(database, state, destination, "selligent", now,
                                            refresh, key_field=KEY)
    finally:
        destination.close()
    requests, refused = served.ask("count")
    if refused:
        said += f" ({refused} answered 429)"
    return PlanCost(what, seconds, 0.0, requests, matched, said)


def run(contacts: int, members: int, created: int, latency: float = 0.020,
        emit: Any = print) -> dict[str, PlanCost]:
    with tempfile.TemporaryDirectory(prefix="reconciler-observe-http-") as folder:
        directory = Path(folder)
        started = time.perf_counter()
        generate(directory, contacts, members, created)
        served = Served(latency)
        try:
            held = served.ask("fill", directory / "round0.duckdb", 0)
            emit(f"{contacts:,} contacts, {members:,} members, 1% churn, {created:,} new "
                 f"contacts joining; {latency * 1000:.0f} ms latency; Selligent sandbox over "
                 f"HTTP (its own process) holding {held:,}; generated and filled in "
                 f"{time.perf_counter() - started:.1f} s")
            state = directory / "state.duckdb"
            open_state_store(state).close()
            costs = {"first": plan(served, directory / "round0.duckdb", state,
                                   "first plan (empty state)", NOW, False)}
            round1 = directory / "round1.duckdb"
            served.ask("fill", round1, held)  # the contacts created in the churn round
            costs["steady"] = plan(served, round1, state, "steady plan (1% churn)",
                                   NOW + dt.timedelta(hours=1), False)
            costs["refresh"] = plan(served, round1, state, "plan with --refresh",
                                    NOW + dt.timedelta(hours=2), True)
        finally:
            served.stop()
    daily = SELLIGENT.daily
    for cost in costs.values():
        emit(f"selligent {cost.what:<25} {cost.seconds:>9.1f} s  {cost.requests:>7,} requests"
             f"  {100 * cost.requests / daily:6.3f}% of daily budget  matched {cost.matched:,}")
        emit(f"{'':<9}   {cost.said}")
    pages = -(-contacts // SELLIGENT.page_size)
    floor = pages * 60 / SELLIGENT.per_minute
    emit(f"selligent first plan: {costs['first'].seconds / floor:.2f}x the documented budget's "
         f"floor ({pages:,} pages at {SELLIGENT.per_minute:,} a minute = {floor:.1f} s)")
    steady = costs["steady"]
    emit(f"observe: selligent steady plan {steady.seconds:.1f} s, {steady.requests:,} "
         f"requests, {100 * steady.requests / daily:.3f}% of daily budget")
    return costs


def main(argv: Sequence[str] | None = None) -> int:
    run(*sizes("python -m bench.observe_http", __doc__, argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
