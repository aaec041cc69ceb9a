"""What a plan costs at the destinations over real HTTP: the sandboxes serving N contacts.

    .venv/bin/python -m bench.observe_http                  # 10M contacts, 1M members
    .venv/bin/python -m bench.observe_http --quick          # 100k contacts, 10k members
    .venv/bin/python -m bench.observe_http --contacts 1m --members 100k

`bench/observe.py` models the destinations; this one serves them for real. Each sandbox runs
in a spawned process of its own (server and client do not share an interpreter lock), filled
straight into its store with the same generated contacts (no API call; `http_sandboxes.py`),
at its documented limits — Selligent 2,500 requests a minute per key (429 above), Actito 100
calls a minute and 5 in flight per licence — with 20 ms added to every answer; Actito's day's
profile export (evidence §9) is made from the profiles it holds. The real clients, adapters
and observers read them at the whole budget (`budgetShare: 1`), the index code and the DuckDB
state store are the real ones (`observe.index_plan`). Requests are counted by the sandboxes;
times are wall clock (code and API overlap, as in production). Three plans per destination
as in `observe.py`: first (empty state), steady after a round of 1% churn with new contacts
created at the destination, --refresh.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.http_sandboxes import ACTITO_KEY, KINDS, SELLIGENT_KEY, observer
from bench.observe import (
    LIMITS,
    NOW,
    SELLIGENT,
    PlanCost,
    generated,
    index_plan,
    sizes,
    summarize,
)
from reconciler.state import open_state_store

ANSWER_SECONDS = 600  # filling 10M records takes about 45 s


class Served:
    """A sandbox in a child process of its own (spawned: it fills its store from the
    generated files), so its serving and the client's reading do not share one interpreter
    lock, as a real server and its client do not. Driven through a pipe."""

    def __init__(self, kind: str, latency: float, workdir: Path) -> None:
        self.kind = kind
        context = multiprocessing.get_context("spawn")  # not fork: the parent has threads
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, kind, latency, workdir),
                                        daemon=True)
        self._process.start()
        self.endpoints: dict[str, Any] = self._answer("start")

    def ask(self, *command: object) -> Any:
        self._pipe.send(command)
        return self._answer(str(command[0]))

    def _answer(self, command: str) -> Any:
        if not self._pipe.poll(ANSWER_SECONDS):
            raise TimeoutError(f"the {self.kind} sandbox's process did not answer {command!r} "
                               f"in {ANSWER_SECONDS} s")
        answer = self._pipe.recv()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def stop(self) -> None:
        self.ask("stop")
        self._process.join(timeout=30)


def _serve(pipe: Any, kind: str, latency: float, workdir: Path) -> None:
    sandbox = KINDS[kind](latency, workdir)
    pipe.send(sandbox.start())
    while True:
        command, *args = pipe.recv()
        try:
            if command == "fill":
                pipe.send(sandbox.fill(Path(args[0]), int(args[1])))
            elif command == "count":  # the requests served since the last count
                pipe.send(sandbox.count())
            else:
                sandbox.stop()
                pipe.send(None)
                return
        except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
            pipe.send(exc)


def plan(served: Served, database: Path, state: Path, what: str, now: dt.datetime,
         refresh: bool) -> PlanCost:
    served.ask("count")
    destination = observer(served.kind, served.endpoints, now)
    key = SELLIGENT_KEY if served.kind == "selligent" else ACTITO_KEY
    try:
        seconds, matched, said = index_plan(database, state, destination, served.kind, now,
                                            refresh, key_field=key)
    finally:
        destination.close()
    requests, refused = served.ask("count")
    if refused:
        said += f" ({refused} answered 429)"
    return PlanCost(what, seconds, 0.0, requests, matched, said)


def run_destination(kind: str, directory: Path, latency: float,
                    emit: Any) -> dict[str, PlanCost]:
    """Fill the `kind` sandbox with round 0, plan; add round 1's new contacts, plan twice."""
    started = time.perf_counter()
    served = Served(kind, latency, directory / f"{kind}-sandbox")
    try:
        held = served.ask("fill", directory / "round0.duckdb", 0)
        emit(f"{kind}: the sandbox (its own process) holds {held:,} contacts, filled in "
             f"{time.perf_counter() - started:.1f} s")
        state = directory / f"state-{kind}.duckdb"
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
    limits = LIMITS[kind]
    for cost in costs.values():
        emit(f"{kind:<9} {cost.what:<25} {cost.seconds:>9.1f} s  {cost.requests:>7,} requests"
             f"  {100 * cost.requests / limits.daily:6.3f}% of daily budget  "
             f"matched {cost.matched:,}")
        emit(f"{'':<9}   {cost.said}")
    return costs


def run(contacts: int, members: int, created: int, latency: float = 0.020,
        emit: Any = print, kinds: Sequence[str] = ("selligent", "actito"),
        ) -> dict[str, dict[str, PlanCost]]:
    with generated(contacts, members, created, latency, emit, "over HTTP; ") as directory:
        results = {kind: run_destination(kind, directory, latency, emit) for kind in kinds}
    if "selligent" in results:
        pages = -(-contacts // SELLIGENT.page_size)
        floor = pages * 60 / SELLIGENT.per_minute
        emit(f"selligent first plan: {results['selligent']['first'].seconds / floor:.2f}x the "
             f"documented budget's floor ({pages:,} pages at {SELLIGENT.per_minute:,} a "
             f"minute = {floor:.1f} s)")
    summarize(results, emit)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    run(*sizes("python -m bench.observe_http", __doc__, argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
