"""External target lists fed by key files over real FTPS and SFTP: replacement and expiry."""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import paramiko
import pytest

from reconciler.destinations.errors import AuthenticationError, PermanentApiError
from reconciler.sandbox.actito import ActitoSandbox, TransferUser
from tests.destinations.actito.conftest import api_list, make_adapter, transfer_settings
from tests.timing import ShiftedClock

VIP = api_list("VIP customers", "customerId")
REFUSED = api_list("Refused", "customerId")


def _members(sandbox: ActitoSandbox, name: str) -> set[str]:
    """The customerIds the list targets now (empty when expired), from the sandbox's store."""
    record = next(r for r in sandbox.store.target_lists.values() if r["name"] == name)
    table = sandbox.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    return {table.profiles[pid]["customerId"] for pid in record["memberIds"]}


def test_a_new_file_replaces_the_members_over_ftps(sandbox: ActitoSandbox) -> None:
    # Scenario: two successive key files; the second replaces the first; unknown keys reported.
    adapter = make_adapter(sandbox, "ftps")
    created = adapter.ensure_target_list(api_list("VIP customers", "customerId", timedelta(days=2)))
    assert created.status == "WAITING_FOR_FILE" and created.member_count == 0
    again = adapter.ensure_target_list(api_list("VIP customers", "customerId", timedelta(days=2)))
    assert again.id == created.id
    report = adapter.replace_members(VIP, ["C000001", "C000002", "C000004", "NOPE"])
    assert (report.lines, report.matched, report.unmatched) == (4, 2, 2)
    assert _members(sandbox, "VIP customers") == {"C000001", "C000002"}
    report = adapter.replace_members(VIP, ["C000003", "C000005"])
    assert _members(sandbox, "VIP customers") == {"C000003", "C000005"}
    listed = adapter.read_target_list("VIP customers")
    assert listed is not None and listed.status == "ACTIVE" and listed.member_count == 2
    assert listed.validity == timedelta(days=2)
    assert adapter.replace_members(VIP, []).matched == 0
    assert _members(sandbox, "VIP customers") == set()


def test_sftp_with_a_key_feeds_a_list(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: a customer-hosted SFTP location reached with a private key, not a password.
    key = paramiko.RSAKey.generate(2048)
    public = f"{key.get_name()} {key.get_base64()}"
    sandbox = start(sftp_users=[TransferUser("acme", public_key=public)])
    pem = io.StringIO()
    key.write_private_key(pem)
    transfer = transfer_settings(sandbox, "sftp", username="acme", password=None,
                                 private_key=pem.getvalue())
    adapter = make_adapter(sandbox, transfer=transfer)
    adapter.ensure_target_list(api_list("Churn risk", "emailAddress", timedelta(hours=1)))
    report = adapter.replace_members(api_list("Churn risk", "emailAddress"),
                                     ["finn.maes1@example.com", "x@example.org"])
    assert (report.matched, report.unmatched) == (1, 1)
    assert _members(sandbox, "Churn risk") == {"C000001"}
    home = sandbox.config.actito_dir / "transfer" / "sftp" / "acme"
    assert any(p.name.startswith("churn-risk_") for p in home.iterdir())


def test_an_expired_list_targets_nobody_until_the_next_file(
        start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: a list valid for 1 second; after that it is empty until a new file arrives.
    clock = ShiftedClock()
    sandbox = start(clock=clock)
    adapter = make_adapter(sandbox, "sftp")
    adapter.ensure_target_list(api_list("Flash sale", "customerId", timedelta(seconds=1)))
    adapter.replace_members(api_list("Flash sale", "customerId"), ["C000001", "C000002"])
    assert adapter.read_target_list("Flash sale").member_count == 2  # type: ignore[union-attr]
    clock.advance(1.2)
    expired = adapter.read_target_list("Flash sale")
    assert expired is not None and expired.status == "EXPIRED" and expired.member_count == 0
    adapter.replace_members(api_list("Flash sale", "customerId"), ["C000003"])
    renewed = adapter.read_target_list("Flash sale")
    assert renewed is not None and renewed.status == "ACTIVE" and renewed.member_count == 1


def test_transfer_refusals_are_our_errors(sandbox: ActitoSandbox) -> None:
    # Scenario: a wrong password on FTPS and SFTP, an unknown SFTP host key, a list with no set-up.
    adapter = make_adapter(sandbox)
    adapter.ensure_target_list(api_list("Refused", "customerId", timedelta(days=1)))
    for protocol in ("ftps", "sftp"):
        bad = transfer_settings(sandbox, protocol, password="wrong")
        with pytest.raises(AuthenticationError):
            make_adapter(sandbox, transfer=bad).replace_members(REFUSED, ["C000001"])
    stranger = transfer_settings(sandbox, "sftp", host_key="ssh-rsa AAAAnotthekey")
    with pytest.raises(PermanentApiError, match="host key"):
        make_adapter(sandbox, transfer=stranger).replace_members(REFUSED, ["C000001"])
    with pytest.raises(PermanentApiError, match="ensure_target_list"):
        adapter.replace_members(api_list("Never made", "customerId"), ["C000001"])


def test_a_list_keyed_otherwise_is_not_silently_reused(sandbox: ActitoSandbox) -> None:
    # Scenario: an activation changes its match key but keeps its audience name.
    adapter = make_adapter(sandbox)
    adapter.ensure_target_list(api_list("Renamed key", "customerId", timedelta(days=1)))
    with pytest.raises(PermanentApiError, match="keyed by customerId"):
        adapter.ensure_target_list(api_list("Renamed key", "emailAddress", timedelta(days=1)))
