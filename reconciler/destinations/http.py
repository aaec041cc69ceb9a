"""The one HTTP retry policy of every destination client: when to try a call again, and how
long to wait first.

A call is retried only on a `TransientApiError` (408, 429, 5xx, no answer: each client maps
its answers to our error tree, and its connection failures with `connection_error`). A
connection that could not be made at all (`UnreachableError`: refused, unknown host) is tried
once more, then given up: it fails in a second, not after minutes of backoff. Timeouts and
dropped connections keep the backoff. Before the next attempt it waits:
- what the server asked, when it said: `Retry-After` (seconds or an HTTP date; RFC 9110) or
  `X-RateLimit-Reset` (seconds until the rate-limit window resets: Selligent's documented 429,
  api/selligent.md §8, which sends no `Retry-After`), plus a little jitter so that clients
  sharing a key do not come back at the same instant;
- otherwise an exponential backoff (`backoff_base` doubling up to `backoff_max`) of which the
  `jitter` share is random.
It gives up when the attempts are used up, when the server asks for more than `max_wait`, or
when the wait would end past `deadline` seconds after the first attempt — so a 60-s reset is
waited for, an hour's is an error at once, and nothing retries forever.

URLs in logs: urllib3 logs every URL it requests at DEBUG. One filter, installed here for
every client, masks query strings and the path parts a destination registers as personal
(`mask_in_urls`, e.g. Actito's lookups by e-mail). Our own log lines name the call, never a
URL's query string, a key or a body.

Pacing (how fast calls start) and concurrency stay with each client, because their documented
budgets differ in kind (`pacing.py`: Selligent's requests per minute per key; Actito's licence
gate: 5 in flight and a per-minute window per licence).
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from reconciler.connections import host_and_port, printable_url
from reconciler.destinations.errors import TransientApiError, UnreachableError

log = logging.getLogger(__name__)
T = TypeVar("T")


class _MaskUrls(logging.Filter):
    """Masks URL parts in urllib3's log records' arguments (query strings always)."""

    def __init__(self) -> None:
        super().__init__()
        self.patterns: list[tuple[re.Pattern[str], str]] = [(re.compile(r"\?[^\s\"]*"), "?***")]

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.mask(a) if isinstance(a, str) else a for a in record.args)
        return True

    def mask(self, text: str) -> str:
        for pattern, replacement in self.patterns:
            text = pattern.sub(replacement, text)
        return text


_MASK = _MaskUrls()
logging.getLogger("urllib3.connectionpool").addFilter(_MASK)


def mask_in_urls(pattern: re.Pattern[str], replacement: str) -> None:
    """Also mask `pattern` (replaced by `replacement`) in the URLs urllib3 logs."""
    if all(p.pattern != pattern.pattern for p, _ in _MASK.patterns):
        _MASK.patterns.append((pattern, replacement))


def masked_url(text: str) -> str:
    """`text` as the URL filter would log it."""
    return _MASK.mask(text)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # the first try included
    unreachable_attempts: int = 2  # a refused connection or unknown host: one retry at most
    backoff_base: float = 0.5  # seconds before the 2nd attempt; doubles each time
    backoff_max: float = 60.0
    jitter: float = 0.5  # up to this share of each backoff is random
    max_wait: float = 300.0  # a server asking for longer is an error, not a wait
    deadline: float = 900.0  # no attempt starts later than this after the first

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Our own wait after failed attempt number `attempt` (1-based)."""
        base = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return base * (1 - self.jitter) + rng.uniform(0, base * self.jitter)

    def wait(self, attempt: int, asked: float | None, rng: random.Random) -> float | None:
        """Seconds before the next attempt; None when the server asks for too long."""
        if asked is None:
            return self.backoff(attempt, rng)
        if asked > self.max_wait:
            return None
        return asked + rng.uniform(0, self.backoff_base * self.jitter)


def server_wait(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """How long the server asks us to wait, from `Retry-After` (seconds or HTTP date) or,
    without it, `X-RateLimit-Reset` (seconds); None when it says nothing usable."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                moment = now or dt.datetime.now(dt.UTC)
                return max(0.0, (when - moment).total_seconds())
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None:
        try:
            return max(0.0, float(reset))
        except ValueError:
            return None
    return None


def with_retries(send: Callable[[], T], policy: RetryPolicy, *, name: str,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None,
                 on_retry: Callable[[TransientApiError], None] | None = None,
                 give_up: Callable[[TransientApiError], bool] | None = None) -> T:
    """`send()` until it answers, retrying transient failures as the policy says; the last
    error is raised when it gives up. `on_retry` sees each error retried (e.g. to slow a
    pacer on 429); `give_up` picks errors the caller handles otherwise (e.g. a call too big
    for a time limit, split rather than sent again); `name` (a destination and call, no URL)
    goes in the log."""
    rng = rng or random.Random()
    started = clock()
    attempt = 1
    while True:
        try:
            return send()
        except TransientApiError as error:
            limit = (policy.unreachable_attempts if isinstance(error, UnreachableError)
                     else policy.max_attempts)
            if attempt >= limit or (give_up is not None and give_up(error)):
                raise
            wait = policy.wait(attempt, error.retry_after, rng)
            if wait is None or clock() + wait - started > policy.deadline:
                raise
            if on_retry is not None:
                on_retry(error)
            log.warning("%s: %s; retry %d/%d in %.2fs", name,
                        error.status or "no answer", attempt, policy.max_attempts - 1, wait)
            sleep(wait)
            attempt += 1


CHECK_ADDRESS = ("check the destination's baseUrl, that the service is up and that this "
                 "machine may reach it (proxy, firewall, VPN)")


def connection_error(exc: requests.RequestException, url: str, *, destination: str,
                     call: str, where: str = "") -> TransientApiError:
    """A connection failure of `requests` in words: the URL tried (without credentials or
    query) and its host:port, what happened and what to check. `UnreachableError` when no
    connection was made (refused, unknown host, no route), else a `TransientApiError`
    (timeouts, a connection dropped mid-call)."""
    target = f"{printable_url(url)} ({host_and_port(url)})"
    prefix = f"{where}: " if where else ""
    reason = _unreachable_reason(exc)
    if reason is not None:
        return UnreachableError(f"{prefix}cannot connect to {target}: {reason}; {CHECK_ADDRESS}",
                                destination=destination, call=call)
    if isinstance(exc, requests.ConnectTimeout):
        what = "connecting timed out"
    elif isinstance(exc, requests.Timeout):
        what = "no answer in time (read timed out)"
    else:
        what = f"the connection failed ({type(exc).__name__})"
    return TransientApiError(f"{prefix}{target}: {what}; if it lasts, check the network path "
                             "to it (proxy, firewall) and the service's status",
                             destination=destination, call=call)


def _unreachable_reason(exc: requests.RequestException) -> str | None:
    """Why no connection was made (refused, unknown host, …); None when one was made, or
    on a timeout (the host may only be slow)."""
    if isinstance(exc, requests.Timeout):
        return None
    chain = list(_chain(exc))
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "the host name does not resolve"
    if any(isinstance(e, NewConnectionError) for e in chain):
        return "no connection could be made"
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and what requests and urllib3 wrap in their
    own (`args`, `reason`)."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "reason", None), current.__cause__,
                        current.__context__, *current.args])
