"""What a sandbox served during the apply benchmark, read from its requests.jsonl, and the
Selligent figures `apply.py` prints from it.

Each line of the log is one exchange: its method and path, its status, the fault injected (if
any), when its answer was ready (`time`) and how long the server had it (`duration_ms`, from
its request line and headers read, the moment the rate limit counts it). From those: requests
per operation, retries, and the span of a set of requests, which is what the throughput
figures of `apply.py` are measured over.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.destinations.pacing import HEADROOM as PACER_HEADROOM

RETRIED_STATUSES = (408, 429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Exchange:
    method: str
    operation: str  # e.g. "POST lists/{list}/segments/{segment}/data/load"
    status: int
    fault: str | None
    start: float  # epoch seconds: the server read its request line and headers
    end: float  # epoch seconds: its answer was ready

    @property
    def retried(self) -> bool:
        """An answer that makes a client try again (429, 5xx, dropped connection)."""
        return self.status in RETRIED_STATUSES or self.fault is not None

    @property
    def data_load(self) -> bool:
        """A call carrying rows: a list or segment data load or data delete."""
        return self.operation.endswith("/data/load") or (
            self.method == "DELETE" and self.operation.endswith("/data"))


def operation(method: str, path: str) -> str:
    """The operation of a path, without the names of the organization, list or segment."""
    if "/Portal/Api/" in path:  # Selligent
        tail = re.sub(r"^.*?/Portal/Api(/organizations/[^/]+)?", "", path)
        tail = re.sub(r"/lists/[^/]+", "/lists/{list}", tail)
        tail = re.sub(r"/segments/(?!static$)[^/]+", "/segments/{segment}", tail)
        return f"{method} {tail.lstrip('/')}"
    tail = "/".join(p for p in path.split("/")[-2:] if not p.isdigit())
    return f"{method} …/{tail}"


def read_exchanges(log: Path, skip: int = 0) -> list[Exchange]:
    """The exchanges of a requests.jsonl after its first `skip` lines."""
    exchanges = []
    for line in log.read_text("utf-8").splitlines()[skip:]:
        entry = json.loads(line)
        end = float(entry["time"])
        exchanges.append(Exchange(entry["method"], operation(entry["method"], entry["path"]),
                                  int(entry["status"]), entry["fault"],
                                  end - float(entry["duration_ms"]) / 1000, end))
    return exchanges


def count_lines(log: Path) -> int:
    return len(log.read_text("utf-8").splitlines()) if log.exists() else 0


def by_operation(exchanges: Iterable[Exchange]) -> Counter[str]:
    return Counter(e.operation for e in exchanges)


def span(exchanges: list[Exchange]) -> float:
    """Seconds from the first request's start to the last answer."""
    return max(e.end for e in exchanges) - min(e.start for e in exchanges) if exchanges else 0.0


def mean_seconds(exchanges: list[Exchange]) -> float:
    return sum(e.end - e.start for e in exchanges) / len(exchanges) if exchanges else 0.0


@dataclass(frozen=True)
class Changes:
    adds: int
    removes: int
    updates: int

    @property
    def rows(self) -> int:
        return self.adds + self.removes + self.updates


def selligent_minimum(changes: Changes, creates_segment: bool, max_rows: int) -> dict[str, int]:
    """The fewest requests per operation: every data call full (max_rows rows), and a new
    segment costs a read (is it there? an apply resumed after a crash finds it) and a create."""
    segment, data = "lists/{list}/segments/{segment}", "lists/{list}/data"
    minimum = {f"POST {segment}/data/load": math.ceil(changes.adds / max_rows),
               f"DELETE {segment}/data": math.ceil(changes.removes / max_rows),
               f"POST {data}/load": math.ceil(changes.updates / max_rows)}
    if creates_segment:
        minimum |= {f"GET {segment}": 1, "POST lists/{list}/segments/static": 1}
    return {kind: count for kind, count in minimum.items() if count}


def report_selligent(seen: list[Exchange], changes: Changes, rps: float, max_rows: int,
                     creates_segment: bool, seconds: float) -> bool:
    """Print requests vs the minimum and the throughput vs the ceiling; True when both meet
    the target (requests = the minimum per operation, data loads at >= 90% of the ceiling)."""
    minimum = selligent_minimum(changes, creates_segment, max_rows)
    counts = by_operation(seen)
    retries = sum(e.retried for e in seen)
    for kind in sorted(set(minimum) | set(counts)):
        print(f"    {counts.get(kind, 0):5d} {kind} (minimum {minimum.get(kind, 0)})")
    loads = [e for e in seen if e.data_load]
    print(f"  retries {retries}; the sandbox answers a {max_rows:,}-row data call in "
          f"{mean_seconds(loads) * 1000:,.0f} ms on average (its added latency included)")
    ceiling = rps * max_rows
    best = changes.rows / ((len(loads) - 1) / rps + mean_seconds(loads)) if loads else 0.0
    data_rate = changes.rows / span(loads) if loads else 0.0
    print(f"  data calls: {changes.rows:,} rows in {len(loads)} calls, {span(loads):.2f} s from "
          f"the first one's start to the last answer = {data_rate:,.0f} rows/s = "
          f"{data_rate / ceiling:.1%} of the ceiling {ceiling:,.0f} rows/s ({rps:g} req/s × "
          f"{max_rows:,} rows); a client starting them exactly at the budget: {best / ceiling:.1%}"
          f" (this one starts them {PACER_HEADROOM:.0%} under it, counted here)")
    whole = changes.rows / span(seen) if seen else 0.0
    best_whole = changes.rows / ((len(seen) - 1) / rps + mean_seconds(loads)) if seen else 0.0
    print(f"  all Selligent requests (the segment read and create, before the data, included): "
          f"{len(seen)} in {span(seen):.2f} s = {whole:,.0f} rows/s = {whole / ceiling:.1%} of "
          f"the ceiling; exactly at the budget: {best_whole / ceiling:.1%}")
    applied = changes.rows / seconds if seconds else 0.0
    print(f"  the whole activation as apply timed it (segment, data, journal, snapshot): "
          f"{seconds:.2f} s = {applied:,.0f} rows/s = {applied / ceiling:.1%} of the ceiling")
    met = counts == Counter(minimum) and retries == 0 and data_rate >= 0.9 * ceiling
    print(f"  target (requests = the minimum per operation, data calls >= 90% of the ceiling): "
          f"{'met' if met else 'NOT met'}")
    return met
