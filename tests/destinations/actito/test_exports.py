"""Which profiles exist, from Actito's documented daily export on the file transfer location:
one download instead of profile API calls; a stale or unusable export stops the plan."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.clock import FixedClock
from reconciler.destinations.actito.exports import ProfileExport, file_moment
from reconciler.destinations.actito.routes import RouteBook
from reconciler.destinations.errors import PermanentApiError
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import make_adapter

PORTAL = Path(__file__).resolve().parents[3] / "manifests" / "data" / "actito-portal.json"
DAY = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
EXPORT = ProfileExport("profiles_$yyyyMMdd.zip", "/exports", timedelta(hours=36))


@pytest.mark.parametrize("protocol", ["ftps", "sftp"])
def test_keys_come_from_the_newest_export_with_no_api_call(
        start: Callable[..., ActitoSandbox], protocol: str) -> None:
    sandbox = start(portal_file=PORTAL, clock=FixedClock(DAY))
    if protocol == "sftp":  # the example's export is on the FTPS location: copy it over
        exported = sandbox.ftps.root / "exports" / "profiles_20261120.zip"
        (sandbox.sftp.root / "exports").mkdir(parents=True)
        (sandbox.sftp.root / "exports" / exported.name).write_bytes(exported.read_bytes())
    adapter = make_adapter(sandbox, protocol, export=EXPORT,
                           routes=RouteBook(documented_only=True))
    before = len(sandbox.log.entries())
    pages = adapter.iter_existing_keys("customerId", ["C000001", "NOPE"], 2,
                                       now=DAY + timedelta(hours=5))
    keys = {k for page in pages for k in page}
    table = sandbox.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert keys == {v["customerId"] for v in table.profiles.values()}  # type: ignore[union-attr]
    assert "C000001" in keys and "NOPE" not in keys
    assert len(sandbox.log.entries()) == before  # no API call at all


def test_a_stale_or_missing_export_stops_the_plan(start: Callable[..., ActitoSandbox]) -> None:
    sandbox = start(portal_file=PORTAL, clock=FixedClock(DAY))
    adapter = make_adapter(sandbox, export=EXPORT)
    with pytest.raises(PermanentApiError, match=r"profiles_20261120\.zip is from 2026-11-20 "
                                                r"00:00 UTC, older than profileExport\.maxAge"):
        list(adapter.iter_existing_keys("customerId", [], 0, now=DAY + timedelta(days=2)))
    missing = make_adapter(sandbox, export=ProfileExport("other_$yyyyMMdd.zip", "/exports",
                                                         timedelta(hours=36)))
    with pytest.raises(PermanentApiError, match="no profile export matching"):
        list(missing.iter_existing_keys("customerId", [], 0, now=DAY))
    with pytest.raises(PermanentApiError, match="has no lastName column"):
        list(adapter.iter_existing_keys("lastName", [], 0, now=DAY))


def test_an_export_is_dated_by_its_name() -> None:
    assert file_moment("p_$yyyyMMdd.zip", "p_20261120.zip") == datetime(2026, 11, 20, tzinfo=UTC)
    assert file_moment("p_$yyyyMMdd.zip", "p_20261340.zip") is None
    assert file_moment("p_$yyyyMMdd.zip", "q_20261120.zip") is None


def test_one_download_serves_every_activation_of_the_run(
        start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: two activations on one table and key attribute, one plan: the export is
    # downloaded once; close() removes the local copy.
    sandbox = start(portal_file=PORTAL, clock=FixedClock(DAY))
    adapter = make_adapter(sandbox, export=EXPORT)
    for key in ("customerId", "gsmNumber", "customerId"):
        assert sum(len(p) for p in adapter.iter_existing_keys(key, [], 0, now=DAY)) > 0
    assert adapter.exported is not None and adapter.exported.downloads == 1
    adapter.close()
    assert adapter.exported._file is None
