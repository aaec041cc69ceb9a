"""The request log of a sandbox: every request served, in memory for tests, and a body-free
JSONL file for people (`SandboxServer` appends; `sandbox/http.py` re-exports both names)."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LogEntry:
    time: float
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    request_body: bytes
    status: int
    response_body: bytes
    duration_ms: float
    in_flight: int  # requests being served when this one arrived, itself included
    fault: str | None = None

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


class RequestLog:
    """Every request a sandbox served, in memory for tests; a body-free JSONL file for people."""

    def __init__(self, path: Path | None = None) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()
        self._path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            if self._path is not None:
                line = {
                    "time": entry.time, "method": entry.method, "path": entry.path,
                    "status": entry.status, "duration_ms": round(entry.duration_ms, 1),
                    "in_flight": entry.in_flight, "fault": entry.fault,
                }
                with self._path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(line) + "\n")

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
