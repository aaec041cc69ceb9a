"""What a sandbox served during the apply benchmark, read from its requests.jsonl.

Each line of the log is one exchange: its method and path, its status, the fault injected (if
any), when its answer was ready (`time`) and how long the server had it (`duration_ms`, from
its request line and headers read, the moment the rate limit counts it). From those: requests
per operation, retries, and the span of a set of requests, which is what the throughput
figures of `apply.py` are measured over.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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
