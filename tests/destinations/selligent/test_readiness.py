"""`reconciler doctor` on Selligent: a missing permission, an expired key and a refused
address are three distinct, actionable findings; a ready account passes; nothing changes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.readiness import expiry_finding
from reconciler.destinations.selligent import SelligentClient
from reconciler.destinations.selligent.readiness import check_service_account
from reconciler.sandbox.selligent import SelligentSandbox
from reconciler.sandbox.selligent.app import ServiceAccount
from tests.destinations.selligent.harness import FAST, LIST, ORG, contacts, start

TODAY = dt.date(2026, 12, 4)
NEEDED = ("Status_Get", "List_GetList", "List_GetListFields", "List_GetListRecordsCount",
          "Data_SearchData", "List_GetListSegments", "List_GetListSegment",
          "Data_LoadSegmentData", "Data_DeleteSegmentData", "List_DeleteSegment",
          "Data_LoadData")


def _findings(account: ServiceAccount, **config: object) -> dict[str, tuple[bool | None, str]]:
    with start(accounts=[account], today=lambda: TODAY, **config) as sandbox:
        client = SelligentClient(sandbox.url, account.key, account.secret, FAST)
        before = _snapshot(sandbox)
        found = check_service_account(client, ORG, LIST)
        assert _snapshot(sandbox) == before  # read-only
    return {f.check: (f.ok, f.message) for f in found}


def _snapshot(sandbox: SelligentSandbox) -> tuple[int, int]:
    table = contacts(sandbox)
    return len(table.records), len(table.segments)


def test_a_ready_account_passes_every_check_and_says_what_it_could_not_try() -> None:
    found = _findings(ServiceAccount("k", "s"))
    assert all(found[op][0] is True for op in NEEDED), found
    assert found["List_CreateStaticSegment"][0] is None


def test_a_missing_permission_names_the_operation() -> None:
    found = _findings(ServiceAccount("k", "s", endpoints=frozenset(NEEDED) - {
        "List_GetListRecordsCount", "Data_LoadSegmentData"}))
    failed = {op for op, (ok, _) in found.items() if ok is False}
    assert failed == {"List_GetListRecordsCount", "Data_LoadSegmentData"}
    assert "give the service account the permission List_GetListRecordsCount" in \
        found["List_GetListRecordsCount"][1]


@pytest.mark.parametrize(("account", "expected"), [
    (ServiceAccount("k", "s", expires_on=dt.date(2026, 11, 30)), "the API key has expired"),
    (ServiceAccount("k", "s", allowed_ips=frozenset({"10.1.2.3"})), "IP filter"),
])
def test_an_expired_key_and_a_refused_address_are_told_apart(account: ServiceAccount,
                                                             expected: str) -> None:
    [(check, (ok, message))] = _findings(account).items()
    assert ok is False and expected in message and "permission" not in message


def test_a_wrong_secret_is_one_finding_about_the_credentials() -> None:
    with start() as sandbox:
        client = SelligentClient(sandbox.url, "sandbox-key", "wrong", FAST)
        [finding] = check_service_account(client, ORG, LIST)
    assert finding.check == "credentials" and "key or secret is wrong" in finding.message


def test_the_manifest_s_expiry_date_fails_two_weeks_ahead() -> None:
    assert expiry_finding(None, TODAY) is None
    soon = expiry_finding(TODAY + dt.timedelta(days=9), TODAY)
    assert soon is not None and soon.ok is False and "in 9 day(s)" in soon.message
    later = expiry_finding(TODAY + dt.timedelta(days=60), TODAY)
    assert later is not None and later.ok is True


def test_the_doctor_command_reports_and_exits_1(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    account = ServiceAccount("k", "s", endpoints=frozenset(NEEDED) - {"Data_LoadData"})
    with start(accounts=[account]) as sandbox:
        (tmp_path / "destination.yaml").write_text(
            "apiVersion: reconciler/v1\nkind: Destination\nmetadata: {name: crm}\nspec:\n"
            f"  type: selligent\n  baseUrl: {sandbox.url}\n  organization: {ORG}\n"
            f"  list: {LIST}\n  credentials: {{apiKey: '${{env:K}}', apiSecret: '${{env:S}}',"
            " expiresOn: 2027-06-30}\n", encoding="utf-8")
        monkeypatch.setenv("K", "k")
        monkeypatch.setenv("S", "s")
        result = CliRunner().invoke(app, ["doctor", str(tmp_path), "--now",
                                          "2026-12-04T00:00:00Z"])
    assert result.exit_code == 1, result.output
    assert "crm:" in result.output and "FAIL Data_LoadData: refused (401)" in result.output
    assert "ok   key expiry: valid until 2027-06-30" in result.output
    assert "1 check(s) failed." in result.output
