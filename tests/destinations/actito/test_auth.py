"""Actito authentication: tokens, their expiry, 401/406, and the client's refresh."""
from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from reconciler.destinations.actito.client import ActitoClient
from reconciler.destinations.errors import AuthenticationError
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import make_client
from tests.timing import ShiftedClock


def test_token_route_answers_the_documented_shape(sandbox: ActitoSandbox) -> None:
    # Scenario: the raw API key (no scheme) buys a bearer token described as in the docs.
    answer = requests.get(f"{sandbox.url}/auth/token", timeout=5,
                          headers={"Authorization": "sandbox-api-key",
                                   "Accept": "application/json"})
    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {"accessToken", "tokenType", "expiresIn", "scope", "jti"}
    assert body["tokenType"] == "bearer" and body["expiresIn"] == "900s"
    wrong = requests.get(f"{sandbox.url}/auth/token", headers={"Authorization": "nope"}, timeout=5)
    assert wrong.status_code == 401


def test_bad_accept_is_406_and_missing_token_is_401(sandbox: ActitoSandbox) -> None:
    # Scenario: a call with a bad Accept header, then one with no or a made-up token.
    token = requests.get(f"{sandbox.url}/auth/token", timeout=5,
                         headers={"Authorization": "sandbox-api-key"}).json()["accessToken"]
    bearer = {"Authorization": f"Bearer {token}"}
    url = f"{sandbox.url}/entities/v5/entities"
    assert requests.get(url, headers={**bearer, "Accept": "text/xml"}, timeout=5).status_code == 406
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer x"}, timeout=5).status_code == 401
    assert requests.get(url, headers=bearer, timeout=5).json()["entities"][0]["name"] == "sandbox"


def test_tokens_expire_and_the_client_refreshes_before_expiry(
        start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: tokens live 1 second; the client keeps working across several lifetimes
    # (the sandbox's and the client's clocks are moved, nobody waits).
    clock = ShiftedClock()
    sandbox = start(clock=clock, token_ttl_seconds=1.0)
    token = requests.get(f"{sandbox.url}/auth/token", timeout=5,
                         headers={"Authorization": "sandbox-api-key"}).json()
    assert token["expiresIn"] == "1s"
    clock.advance(1.1)
    # Family-prefixed: the plain `/v5/entities` form is gone since June 2025 (a 404 now).
    expired = requests.get(f"{sandbox.url}/entities/v5/entities", timeout=5,
                           headers={"Authorization": f"Bearer {token['accessToken']}"})
    assert expired.status_code == 401
    sandbox.log.clear()
    client = make_client(sandbox, clock=clock.seconds)
    for _ in range(5):
        assert client.profile_table("Profiles")["name"] == "Profiles"
        clock.advance(0.5)
    statuses = [(e.path, e.status) for e in sandbox.log.entries()]
    assert all(status == 200 for _, status in statuses)
    assert sum(path == "/auth/token" for path, _ in statuses) >= 2


def test_client_renews_once_on_401_and_reports_a_bad_key(sandbox: ActitoSandbox) -> None:
    # Scenario: the server forgets all tokens (a restart); the client re-authenticates once.
    client = make_client(sandbox)
    client.profile_table("Profiles")
    sandbox.issuer.revoke_all()
    sandbox.log.clear()
    assert client.profile_table("Profiles")["id"] == "16"
    assert [(e.path.endswith("token"), e.status) for e in sandbox.log.entries()] == [
        (False, 401), (True, 200), (False, 200)]
    with pytest.raises(AuthenticationError) as refused:
        ActitoClient(sandbox.url, "wrong-key", "sandbox").profile_table("Profiles")
    assert "wrong-key" not in str(refused.value) and refused.value.status == 401
