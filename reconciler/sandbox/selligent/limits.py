"""The Selligent sandbox's documented rate limit: requests per API key in fixed windows.

[C: api/selligent.md §8, the Marigold "Selligent API Rate Limitation" page] 2,500 requests a
minute per API key, counted across all paths; over it, HTTP 429 with a plain-text body and the
headers X-RateLimit-Limit (`2500, 2500;w=60`), X-RateLimit-Remaining and X-RateLimit-Reset
(seconds until the 60-s window resets), and no Retry-After. The window's exact semantics, the
body's wording and the headers on answers let through are inferred (`inferred.py`).

`RateLimiter.admit` is the `admit` hook of `SandboxServer`: it runs as a request starts, before
authentication, and counts on the sandbox's `Faults.clock` (tests move it instead of sleeping).
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.sandbox.http import Admission, Faults, Response
from reconciler.sandbox.selligent import inferred
from reconciler.sandbox.selligent.app import credentials

DOCUMENTED_REQUESTS_PER_MINUTE = 2500  # [C: §8] per API key
DOCUMENTED_WINDOW_SECONDS = 60.0  # [C: §8] "w=60"
_MAX_COUNTS = 10_000


@dataclass(frozen=True)
class Window:
    """A limit: `limit` requests per `seconds`, per key."""

    limit: int
    seconds: float


@dataclass
class _Count:
    started: float
    used: int


class RateLimiter:
    """Fixed windows per API key: the documented per-minute one (`requests_per_minute()`, None:
    none) and, when `Faults.requests_per_second` is set, a shorter one of the same shape."""

    def __init__(self, requests_per_minute: Callable[[], int | None], faults: Faults) -> None:
        self.requests_per_minute = requests_per_minute  # read on each request
        self.faults = faults  # its clock and requests_per_second, read on each request
        self._counts: dict[tuple[str, Window], _Count] = {}
        self._lock = threading.Lock()

    def windows(self) -> list[Window]:
        found = []
        per_minute = self.requests_per_minute()
        if per_minute is not None:
            found.append(Window(per_minute, DOCUMENTED_WINDOW_SECONDS))
        per_second = self.faults.requests_per_second
        if per_second:  # [I] the test and demo knob, translated (inferred.py)
            limit = max(1, math.floor(per_second))
            found.append(Window(limit, limit / per_second))
        return found

    def admit(self, headers: Mapping[str, str]) -> Admission:
        """Count one request of the key in `headers`; a 429 when a window of it is full."""
        windows = self.windows()
        if not windows:
            return Admission()
        key, _ = credentials(headers)
        now = self.faults.clock()
        with self._lock:
            if len(self._counts) > _MAX_COUNTS:  # many keys (a test, a scan): forget ended ones
                self._counts = {k: c for k, c in self._counts.items()
                                if now - c.started < k[1].seconds}
            counts = []
            for window in windows:
                count = self._counts.get((key, window))
                if count is None or now - count.started >= window.seconds:
                    count = self._counts[(key, window)] = _Count(now, 0)
                counts.append((window, count))
            full = [(w, c) for w, c in counts if c.used >= w.limit]
            if full:  # the one that stays full longest says when to come back
                window, count = max(full, key=lambda wc: wc[1].started + wc[0].seconds)
                return Admission(refusal=_too_many(window, count, now))
            for _, count in counts:
                count.used += 1
            # [I] answers let through carry the headers of the window closest to its limit
            window, count = min(counts, key=lambda wc: (wc[0].limit - wc[1].used, -wc[0].seconds))
            return Admission(headers=_headers(window, count, now))


def _headers(window: Window, count: _Count, now: float) -> dict[str, str]:
    reset = max(1, math.ceil(count.started + window.seconds - now))
    return {
        "X-RateLimit-Limit": inferred.rate_limit_header(window.limit, window.seconds),
        "X-RateLimit-Remaining": str(max(0, window.limit - count.used)),
        "X-RateLimit-Reset": str(reset),
    }


def _too_many(window: Window, count: _Count, now: float) -> Response:
    """The documented 429: plain text, the X-RateLimit-* headers, no Retry-After."""
    body = inferred.rate_limit_body(window.limit, window.seconds).encode("utf-8")
    headers = {"Content-Type": inferred.RATE_LIMIT_CONTENT_TYPE, **_headers(window, count, now)}
    return Response(429, body, headers)
