"""The one retry policy of every destination client, with injected sleep and clock."""
from __future__ import annotations

import datetime as dt
import logging
import random
import socket

import pytest
import requests

import reconciler.destinations.actito.client  # noqa: F401 - registers Actito's lookup masks
from reconciler.destinations.errors import PermanentApiError, TransientApiError, UnreachableError
from reconciler.destinations.http import (
    RetryPolicy,
    connection_error,
    masked_url,
    server_wait,
    with_retries,
)

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "Sun, 01 Nov 2026 12:00:30 GMT"}, 30.0),  # an HTTP date
    ({"Retry-After": "Sun, 01 Nov 2026 11:00:00 GMT"}, 0.0),  # already past
    ({"X-RateLimit-Reset": "42", "X-RateLimit-Remaining": "0"}, 42.0),  # Selligent's 429
    ({"Retry-After": "3", "X-RateLimit-Reset": "42"}, 3.0),  # Retry-After wins
    ({"Retry-After": "soon"}, None),
    ({"X-RateLimit-Reset": "later"}, None),
    ({}, None),
])
def test_the_server_says_how_long_to_wait(headers: dict[str, str],
                                          expected: float | None) -> None:
    # Scenario: each way a server asks for a pause, and answers that say nothing usable.
    assert server_wait(headers, NOW) == expected


class Recorder:
    """A fake clock whose sleeps move it, and a call that fails `failures` times first."""

    def __init__(self, failures: list[TransientApiError | PermanentApiError]) -> None:
        self.failures, self.now, self.slept, self.calls = list(failures), 0.0, [], 0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def send(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "answer"

    def run(self, policy: RetryPolicy, **extra: object) -> str:
        return with_retries(self.send, policy, name="test GET /x", sleep=self.sleep,
                            clock=lambda: self.now, rng=random.Random(1), **extra)  # type: ignore[arg-type]


def _busy(wait: float | None = None) -> TransientApiError:
    return TransientApiError("busy", status=429, retry_after=wait)


def test_a_60_second_reset_is_waited_for_not_given_up_on() -> None:
    # Scenario: Selligent's window resets in 60 s: one wait of 60 s (plus jitter), then the
    # answer; a retry that followed our own backoff would have given up long before.
    recorder = Recorder([_busy(60.0)])
    assert recorder.run(RetryPolicy()) == "answer"
    assert len(recorder.slept) == 1 and 60.0 <= recorder.slept[0] <= 60.25


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    # Scenario: five failures without a server hint: waits grow 0.5, 1, 2, 4, 8 (±jitter).
    recorder = Recorder([TransientApiError("no answer") for _ in range(5)])
    assert recorder.run(RetryPolicy(backoff_max=6.0)) == "answer"
    for wait, base in zip(recorder.slept, (0.5, 1, 2, 4, 6), strict=True):
        assert base / 2 <= wait <= base


@pytest.mark.parametrize(("policy", "failures", "calls"), [
    (RetryPolicy(max_attempts=3), [_busy(), _busy(), _busy()], 3),  # attempts used up
    (RetryPolicy(max_wait=120), [_busy(3600.0)], 1),  # an hour's reset: an error at once
    (RetryPolicy(deadline=100), [_busy(60.0), _busy(60.0)], 2),  # past the deadline
])
def test_it_gives_up_with_the_last_error(policy: RetryPolicy,
                                         failures: list[TransientApiError],
                                         calls: int) -> None:
    # Scenario: each way to give up raises the error of the last attempt, after `calls`.
    recorder = Recorder(failures)
    with pytest.raises(TransientApiError, match="busy"):
        recorder.run(policy)
    assert recorder.calls == calls


def test_permanent_errors_are_never_retried_and_429s_are_reported() -> None:
    # Scenario: a 400 goes straight up; a 429 retried is handed to on_retry (a pacer slows).
    seen: list[int | None] = []
    recorder = Recorder([_busy(1.0), PermanentApiError("bad", status=400)])
    with pytest.raises(PermanentApiError):
        recorder.run(RetryPolicy(), on_retry=lambda error: seen.append(error.status))
    assert recorder.calls == 2 and seen == [429]


def test_urls_logged_by_urllib3_lose_query_strings_and_registered_parts(
        caplog: pytest.LogCaptureFixture) -> None:
    # Scenario: urllib3 logs a lookup by e-mail with a query string: both are masked, for
    # every client (the filter sits on urllib3's logger, installed once). The lookup is
    # Actito's v5 route (the v4 one it replaces is retired).
    logger = logging.getLogger("urllib3.connectionpool")
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logger.debug('%s "%s %s HTTP/1.1" %s', "http://h:1", "GET",
                     "/profiles/v5/entities/e/profile-tables/16/profiles/"
                     "emailAddress=a.b%40example.com?apiKey=secret", 200)
    [record] = caplog.records
    assert "example.com" not in record.getMessage() and "secret" not in record.getMessage()
    assert "profiles/emailAddress=***" in record.getMessage()
    assert masked_url("/x?q=1") == "/x?***"


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _failure(url: str, **timeouts: float) -> requests.RequestException:
    try:
        requests.get(url, timeout=(timeouts.get("connect", 5), timeouts.get("read", 5)))
    except requests.RequestException as exc:
        return exc
    raise AssertionError(f"{url} answered")


def test_a_refused_connection_names_the_url_and_what_to_check() -> None:
    # Scenario: baseUrl points at a port nothing listens on (a typo, a service down): the
    # error says where it tried (no password, no query), why, and what to check.
    port = _closed_port()
    url = f"http://user:hunter2@127.0.0.1:{port}/Portal/Api?token=abc"
    error = connection_error(_failure(f"http://127.0.0.1:{port}/x"), url,
                             destination="Selligent", call="GET /x", where="org O")
    assert isinstance(error, UnreachableError)
    assert str(error) == (
        f"Selligent GET /x: org O: cannot connect to http://127.0.0.1:{port}/Portal/Api "
        f"(127.0.0.1:{port}): connection refused; check the destination's baseUrl, that the "
        "service is up and that this machine may reach it (proxy, firewall, VPN)")


def test_a_host_that_does_not_resolve_is_unreachable_too() -> None:
    # Scenario: a misspelt tenant host (the .invalid domain never resolves, RFC 2606).
    error = connection_error(_failure("https://tenant.invalid/x"), "https://tenant.invalid/Api",
                             destination="Selligent", call="GET /x")
    assert isinstance(error, UnreachableError)
    assert "https://tenant.invalid/Api (tenant.invalid:443): the host name does not resolve" \
        in str(error)


def test_a_timeout_is_transient_not_unreachable() -> None:
    # Scenario: the server accepts the connection but never answers: a read timeout, which
    # keeps the backoff (the service may be slow, not gone).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x"
        error = connection_error(_failure(url, read=0.2), url, destination="D", call="GET /x")
    assert type(error) is TransientApiError
    assert "no answer in time (read timed out)" in str(error)


def test_an_unreachable_destination_is_tried_twice_others_keep_the_backoff() -> None:
    # Scenario: a refused connection fails after one retry (seconds, not minutes of
    # backoff); a timeout or a 5xx goes on to the policy's max_attempts.
    refused = Recorder([UnreachableError("refused") for _ in range(5)])
    with pytest.raises(UnreachableError):
        refused.run(RetryPolicy())
    assert refused.calls == 2 and len(refused.slept) == 1 and refused.slept[0] <= 0.5
    slow = Recorder([TransientApiError("timed out") for _ in range(4)]
                    + [TransientApiError("busy", status=503)])
    assert slow.run(RetryPolicy()) == "answer" and slow.calls == 6
