"""The Actito client's manners: which failures it retries, how it waits, what it never says."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from reconciler.destinations.errors import PermanentApiError
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import FAST_RETRY, api_list, make_adapter, make_client


def test_other_4xx_are_not_retried_and_errors_name_the_call(sandbox: ActitoSandbox) -> None:
    # Scenario: a lookup by a non-unique attribute is a 400: one request, a clear error.
    client = make_client(sandbox)
    client.profile_table("Profiles")
    sandbox.log.clear()
    with pytest.raises(PermanentApiError) as refused:
        client.find_profile("Profiles", "firstName", "Finn")
    assert len(sandbox.log.entries()) == 1
    message = str(refused.value)
    assert "GET profile by firstName" in message and "entity sandbox, table Profiles" in message
    assert "HTTP 400" in message and "Finn" not in message


def test_retry_after_is_honoured(sandbox: ActitoSandbox) -> None:
    # Scenario: the server allows 2 requests a second and says so with Retry-After on 429s.
    client = make_client(sandbox)
    client.profile_table("Profiles")
    sandbox.faults.requests_per_second = 2
    sandbox.log.clear()
    for _ in range(4):
        client.profile_table("Profiles")
    entries = sandbox.log.entries()
    refused = [i for i, e in enumerate(entries) if e.status == 429]
    assert refused and entries[-1].status == 200
    first = refused[0]
    assert entries[first + 1].time - entries[first].time >= 0.9


def test_logs_hold_no_key_password_token_or_personal_data(
    sandbox: ActitoSandbox, caplog: pytest.LogCaptureFixture,
) -> None:
    # Scenario: a whole run at DEBUG level, lookups by e-mail and uploads included.
    caplog.set_level(logging.DEBUG)
    adapter = make_adapter(sandbox, "ftps")
    looked_up = ["finn.maes1@example.com", "zoe.muller2@example.com"]
    list(adapter.iter_existing_keys("emailAddress", looked_up, len(looked_up)))
    adapter.ensure_target_list(api_list("Logged", "emailAddress", timedelta(days=1)))
    adapter.replace_members(api_list("Logged", "customerId"), ["finn.maes1@example.com"])
    adapter.update_profiles("emailAddress", ["gsmNumber"], [("finn.maes1@example.com",
                                                             "+32470000001")])
    tokens = [e.response_json()["accessToken"] for e in sandbox.log.entries()
              if e.path == "/auth/token"]
    secrets = ["sandbox-api-key", "sandbox-ftp-password", "finn.maes1", "zoe.muller2",
               "+32470000001", *tokens]
    assert caplog.records
    assert not [s for s in secrets if s in caplog.text]


def test_a_refused_connection_names_the_address_and_is_not_retried_for_long() -> None:
    # Scenario: nothing listens at the manifest's baseUrl: the error names the URL and its
    # host:port and what to check after one retry, not the whole backoff.
    import socket

    from reconciler.destinations.actito.client import ActitoClient
    from reconciler.destinations.errors import TransientApiError

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    client = ActitoClient(f"http://127.0.0.1:{port}", "k3y-s3cret", "sandbox", retry=FAST_RETRY)
    with pytest.raises(TransientApiError) as failed:
        client.call("GET", "/profile-table-structure/v5/entities/sandbox/profile-tables",
                    call="GET profile tables", subject="entity sandbox")
    message = str(failed.value)
    assert f"http://127.0.0.1:{port}" in message and f"127.0.0.1:{port}" in message
    assert "k3y-s3cret" not in message and "check" in message
