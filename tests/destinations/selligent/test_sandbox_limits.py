"""The Selligent sandbox's documented limits (§8 of api/selligent.md): the per-key rate limit
and the 503 under load."""
from __future__ import annotations

import requests

from reconciler.sandbox.http import Faults
from reconciler.sandbox.selligent import ServiceAccount
from reconciler.sandbox.selligent.app import DEFAULT_ACCOUNT
from reconciler.sandbox.selligent.limits import RateLimiter
from tests.destinations.selligent.harness import call, start
from tests.timing import StepClock

LISTS = "/organizations/SANDBOX/lists"
CONTACTS = LISTS + "/CONTACTS"
OTHER = {"X-ApiKey": "other-key:other-secret"}


def _rate_headers(answer: requests.Response) -> tuple[str, str, str]:
    h = answer.headers
    return h["X-RateLimit-Limit"], h["X-RateLimit-Remaining"], h["X-RateLimit-Reset"]


# 1. The rate limit ----------------------------------------------------------------------------

def test_rate_limit_answers_the_documented_429_per_key_in_a_60_second_window() -> None:
    # Scenario: a key making 3 calls a minute (any path, either header form) gets the 4th
    # refused with the documented shape; the Reset counts down on the sandbox's clock; another
    # key is not limited; once the 60 s from the key's first call are over it may call again.
    clock = StepClock()
    accounts = [DEFAULT_ACCOUNT, ServiceAccount("other-key", "other-secret")]
    with start(requests_per_minute=3, accounts=accounts, faults=Faults(clock=clock)) as sandbox:
        two_headers = {"X-ApiKey": "sandbox-key", "X-ApiKey-Secret": "sandbox-secret"}
        through = [call(sandbox, "GET", "/status"), call(sandbox, "GET", LISTS),
                   call(sandbox, "GET", CONTACTS + "/nothing", headers=two_headers)]
        clock.advance(20)
        over = call(sandbox, "GET", CONTACTS)
        clock.advance(15.5)
        later = call(sandbox, "GET", "/status")
        other = call(sandbox, "GET", "/status", headers=OTHER)
        clock.advance(24.5)  # the window started 60 s ago
        again = call(sandbox, "GET", "/status")
        faults = [e.fault for e in sandbox.log.entries()]
    assert [a.status_code for a in through] == [200, 200, 404]
    assert [_rate_headers(a) for a in through] == [
        ("3, 3;w=60", "2", "60"), ("3, 3;w=60", "1", "60"), ("3, 3;w=60", "0", "60")]
    assert over.status_code == 429
    assert over.headers["Content-Type"].split(";")[0] == "text/plain"
    assert over.text == "API calls quota exceeded! maximum admitted 3 per Minute."
    assert _rate_headers(over) == ("3, 3;w=60", "0", "40")
    assert "Retry-After" not in over.headers
    assert later.status_code == 429 and _rate_headers(later)[2] == "25"  # 24.5 s, rounded up
    assert other.status_code == 200 and _rate_headers(other) == ("3, 3;w=60", "2", "60")
    assert again.status_code == 200 and _rate_headers(again) == ("3, 3;w=60", "2", "60")
    assert faults.count("rate-limited") == 2


def test_the_default_is_the_documented_2500_a_minute_and_none_turns_it_off() -> None:
    # Scenario: 2,500 calls of one key in a minute are let through, the 2,501st is refused
    # with the documented sentence; other keys keep their own 2,500; with no limit, no headers.
    clock = StepClock()
    limiter = RateLimiter(lambda: 2500, Faults(clock=clock))
    key = {"x-apikey": "k:s"}
    admitted = [limiter.admit(key) for _ in range(2500)]
    refused = limiter.admit(key)
    assert all(a.refusal is None for a in admitted)
    assert admitted[-1].headers == {"X-RateLimit-Limit": "2500, 2500;w=60",
                                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}
    assert refused.refusal is not None and refused.refusal.status == 429
    assert refused.refusal.body == b"API calls quota exceeded! maximum admitted 2500 per Minute."
    assert limiter.admit({"x-apikey": "k2:s"}).refusal is None
    clock.advance(60)
    assert limiter.admit(key).headers["X-RateLimit-Remaining"] == "2499"
    with start() as sandbox:
        assert _rate_headers(call(sandbox, "GET", "/status"))[:2] == ("2500, 2500;w=60", "2499")
    with start(requests_per_minute=None) as unlimited:
        assert "X-RateLimit-Limit" not in call(unlimited, "GET", "/status").headers


def test_requests_per_second_fault_is_a_per_key_window_of_the_documented_shape() -> None:
    # Scenario: the generic Faults.requests_per_second knob no longer gives the Actito-style 429
    # with Retry-After: 2 a second become a per-key 1-second window answering the plain-text
    # 429 with X-RateLimit-* headers.
    clock = StepClock()
    accounts = [DEFAULT_ACCOUNT, ServiceAccount("other-key", "other-secret")]
    faults = Faults(requests_per_second=2, clock=clock)
    with start(requests_per_minute=None, accounts=accounts, faults=faults) as sandbox:
        burst = [call(sandbox, "GET", "/status") for _ in range(3)]
        other = call(sandbox, "GET", "/status", headers=OTHER)
        clock.advance(1.0)
        later = call(sandbox, "GET", "/status")
    assert [a.status_code for a in burst] == [200, 200, 429]
    assert burst[2].text == "API calls quota exceeded! maximum admitted 2 per Second."
    assert _rate_headers(burst[2]) == ("2, 2;w=1", "0", "1")
    assert "Retry-After" not in burst[2].headers
    assert other.status_code == 200 and later.status_code == 200


def test_503_under_load_is_the_vendor_envelope() -> None:
    # Scenario: an overloaded API (every call a 503) answers the error envelope.
    with start(faults=Faults(error_ratio=1.0)) as sandbox:
        answer = call(sandbox, "GET", CONTACTS)
    assert answer.status_code == 503
    assert answer.json() == {
        "errors": [{"error_code": "ERR", "description":
                    "The service is temporarily unavailable. Please try again later."}],
        "result_code": "ServiceUnavailable", "message": "Request Failed"}
