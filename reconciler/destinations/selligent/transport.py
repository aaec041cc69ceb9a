"""One Selligent HTTP call, paced and retried: session, auth header, timeouts, backoff.

Every call (retries included) starts when the shared pacer allows (`pacing.py`: evenly spaced,
a little under `requests_per_second`; a 429 widens the spacing). Retries follow the one policy
of every destination (`../http.py`): 408/429/5xx, timeouts and dropped connections, waiting
what `Retry-After` or the documented `X-RateLimit-Reset` asks (api/selligent.md §8: the 429 is
plain text with X-RateLimit-* headers and no Retry-After), else backoff with jitter; a refused
connection or unknown host once only (its error names the base URL and host:port); never on
other 4xx. `requests` exceptions stop here: callers only see `reconciler.destinations.errors`.
Nothing logged here carries the API key, the secret, a query string or a body.
"""
from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from reconciler import __version__
from reconciler.destinations.errors import DestinationError, TransientApiError
from reconciler.destinations.http import (
    RetryPolicy,
    connection_error,
    server_wait,
    with_retries,
)
from reconciler.destinations.pacing import shared_pacer
from reconciler.destinations.selligent.errors import (
    DESTINATION,
    error_for_result,
    error_for_status,
)
from reconciler.destinations.selligent.sizing import INBOUND_LIMIT_SECONDS, SizingSettings

log = logging.getLogger(__name__)
USER_AGENT = f"audience-reconciler/{__version__} (selligent client)"


@dataclass(frozen=True)
class SelligentLimits:
    """How the client paces and sizes its calls (the API documents no limits: all [I])."""

    max_rows_per_call: int = 1000  # rows per data/load or delete call, at most
    # The first calls' size, then sized by time; §8's documented inbound time-out (sizing.py).
    initial_rows_per_call: int = SizingSettings.initial_rows
    inbound_limit_seconds: float = INBOUND_LIMIT_SECONDS
    max_bytes_per_call: int = 4_000_000  # JSON body bytes per call
    page_size: int = 1000  # `take` asked for lists, segments and data/search (may be capped)
    read_in_flight: int = 4  # concurrent page reads of a list whose record count is known
    max_in_flight: int = 1  # concurrent calls for the chunks of one load or delete
    connections: int = 10  # pooled connections: at least the calls a writer has in flight
    requests_per_second: float | None = None  # a request budget: every call is paced under it
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_attempts: int = 6  # the first try included
    backoff_base: float = 0.5  # seconds before the 2nd attempt; doubles each time
    backoff_max: float = 60.0
    jitter: float = 0.5  # up to this share of each wait is random
    max_retry_after: float = 300.0  # a longer Retry-After / X-RateLimit-Reset is an error

    @property
    def retry(self) -> RetryPolicy:
        """The shared retry policy (../http.py) with these numbers."""
        return RetryPolicy(max_attempts=self.max_attempts, backoff_base=self.backoff_base,
                           backoff_max=self.backoff_max, jitter=self.jitter,
                           max_wait=self.max_retry_after)


@dataclass(frozen=True)
class Call:
    """What is being called, for retries and error messages."""

    method: str
    path: str  # below the base URL, already quoted
    where: str  # "organization X, list Y", for people

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


class Transport:
    """A pooled session to one Selligent base URL (…/Portal/Api) with one key pair."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        limits: SelligentLimits | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits or SelligentLimits()
        self.session = session or self._new_session(
            max(self.limits.connections, self.limits.max_in_flight))
        self.session.headers["X-ApiKey"] = f"{api_key}:{api_secret}"
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = USER_AGENT
        self._sleep = sleep
        self._random = random.Random()
        # A little under the budget, shared by every client of this key in the process.
        self._pacer = shared_pacer(f"{self.base_url} {api_key}", self.limits.requests_per_second)
        self._sent = 0  # calls sent, retries included (what a read cost)
        self._sent_lock = threading.Lock()

    @staticmethod
    def _new_session(max_in_flight: int) -> requests.Session:
        """A session pooling `max_in_flight` connections to the API."""
        session = requests.Session()
        pool = max_in_flight  # one pooled connection per concurrent call
        adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def close(self) -> None:
        self.session.close()

    @property
    def calls_sent(self) -> int:
        """How many calls this transport has sent so far, retries included."""
        return self._sent


    def request(self, call: Call, *, params: dict[str, Any] | None = None, body: Any = None,
                give_up: Callable[[TransientApiError], bool] | None = None) -> Any:
        """Send the call (retrying when worth it, except errors `give_up` takes) and return
        its decoded JSON answer."""
        data = None if body is None else _encode(body)

        def slow_down_on_429(error: TransientApiError) -> None:
            if error.status == 429:
                self._pacer.slow_down()

        return with_retries(lambda: self._once(call, params, data), self.limits.retry,
                            name=f"{DESTINATION} {call.name}", sleep=self._sleep,
                            rng=self._random, on_retry=slow_down_on_429, give_up=give_up)

    def _once(self, call: Call, params: dict[str, Any] | None, data: bytes | None) -> Any:
        headers = {"Content-Type": "application/json"} if data is not None else None
        self._pacer.wait()  # retries included: a burst of retries must not blow the budget
        with self._sent_lock:
            self._sent += 1
        started = time.monotonic()
        try:
            response = self.session.request(
                call.method, f"{self.base_url}{call.path}", params=params, data=data,
                headers=headers, timeout=(self.limits.connect_timeout, self.limits.read_timeout),
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            failure = connection_error(exc, self.base_url, destination=DESTINATION,
                                       call=call.name, where=call.where)
            failure.elapsed = time.monotonic() - started
            raise failure from exc
        except requests.RequestException as exc:
            raise DestinationError(f"{call.where}: request failed ({type(exc).__name__})",
                                   destination=DESTINATION, call=call.name) from exc
        body = _decode(response)
        log.debug("%s %s: HTTP %d", DESTINATION, call.name, response.status_code)
        if response.status_code >= 400:
            raise error_for_status(response.status_code, body, call=call.name, where=call.where,
                                   retry_after=server_wait(response.headers))
        error = error_for_result(body, call=call.name, where=call.where)
        if error is not None:
            raise error
        return body


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
