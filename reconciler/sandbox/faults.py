"""Fault injection and limits of the sandboxes' HTTP server: the `Faults` knobs (latency,
errors, dropped connections, rate and in-flight limits, the test seams) and `_Gate`, the state
one server's threads share to apply them. `reconciler.sandbox.http` serves with them.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Faults:
    """Knobs that make a sandbox behave like a busy or flaky production server."""

    latency_ms: float = 0.0  # added to every answer
    error_ratio: float = 0.0  # share of requests answered 503
    drop_ratio: float = 0.0  # share of connections closed with no answer
    # Above it: 429 with Retry-After (`_Gate.admit`); a server given its own `admit` ignores
    # it unless that admit reads it (the Selligent sandbox turns it into a per-key window).
    requests_per_second: float | None = None
    burst: float | None = None  # requests let through at once; None: a second's worth (>= 1)
    max_in_flight: int | None = None  # above it: 429 (Actito: 5 per licence)
    throttle_per_minute: float | None = None  # above it: answers slow down (not rejected)
    max_body_bytes: int | None = None  # above it: 413
    seed: int = 0  # makes the random faults reproducible
    # Test seams: the clock the limits count with (seconds, monotonic), and a hook called
    # with each request before it is answered (a test may hold a request there).
    clock: Callable[[], float] = time.monotonic
    before_answer: Callable[[Any], None] | None = None  # given the http.Request
    # and a hook called as a request's body arrives, with its method, path and the bytes read
    # so far (after each BODY_CHUNK): a test may hold an upload part-way there.
    while_receiving: Callable[[str, str, int], None] | None = None


BODY_CHUNK = 8 * 1024


class DropConnection(Exception):  # noqa: N818 - an instruction, not an error
    """Raised by a `before_answer` hook: the request is not handled and its connection is
    closed with no answer, as by a server that dies mid-request."""



class _Gate:
    """Fault and limit state shared by the threads of one server."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.lock = threading.Lock()
        self.random = random.Random(faults.seed)
        self.in_flight = 0
        self.tokens = 0.0  # the rate limit's bucket, as of `filled_at`
        self.filled_at: float | None = None  # None: not used yet (a full bucket)
        self.minute: list[float] = []  # arrival times within the last minute

    def roll(self, ratio: float) -> bool:
        with self.lock:
            return ratio > 0 and self.random.random() < ratio

    def admit(self) -> float | None:
        """Count a request against `requests_per_second` as it starts (request line and
        headers read, body not yet): None when it is within the limit, else the seconds until
        it would be. A token bucket: `requests_per_second` tokens a second, `burst` at most
        (one second's worth by default), one per request let through. Counting at the start,
        not when the body has arrived, means requests sent at the budget's pace are counted at
        that pace whatever their body sizes or how busy the server is [I: the real limit's
        shape is undocumented, selligent.md §3.3]."""
        rps = self.faults.requests_per_second
        if rps is None:
            return None
        capacity = self.faults.burst or max(1.0, rps)
        now = self.faults.clock()
        with self.lock:
            if self.filled_at is None:
                tokens = capacity
            else:
                tokens = min(capacity, self.tokens + (now - self.filled_at) * rps)
            self.filled_at = now
            if tokens >= 1.0:
                self.tokens = tokens - 1.0
                return None
            self.tokens = tokens
            return (1.0 - tokens) / rps

    def enter(self) -> tuple[int, float]:
        """Count an arrival (its body read); return (in flight, throttling delay)."""
        now = self.faults.clock()
        with self.lock:
            self.in_flight += 1
            self.minute = [t for t in self.minute if now - t < 60.0] + [now]
            delay = 0.0
            per_minute = self.faults.throttle_per_minute
            if per_minute is not None and len(self.minute) > per_minute:
                delay = 60.0 / per_minute
            return self.in_flight, delay

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1
