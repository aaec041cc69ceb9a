"""The v5 profile listing, whose paging is undocumented: complete or an error, never truncated."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.destinations.errors import PermanentApiError
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import existing_keys, make_adapter, profile_count

PAGES = "/profiles/v5/entities/sandbox/profile-tables/16/profiles"


def _page_calls(sandbox: ActitoSandbox) -> list[int]:
    """The profiles each page of the listing answered, in order."""
    return [len(e.response_json()["profiles"]) for e in sandbox.log.entries() if e.path == PAGES]


def test_a_listing_without_totals_is_an_error(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: the listing answers no totals and serves 25 a page when 40 are asked: a short
    # page cannot be told from the end, so the index read stops at once and says why (it used
    # to read one page, then pages until a short one: both silently truncated).
    sandbox = start(listing_totals=False, listing_page_cap=25)
    adapter = make_adapter(sandbox, page_size=40)
    with pytest.raises(PermanentApiError, match="announces no total.*profileExport"):
        list(adapter.iter_keys("customerId"))
    with pytest.raises(PermanentApiError, match="announces no total"):
        existing_keys(adapter, "customerId", [f"C{n:06d}" for n in range(1, 120)])
    assert _page_calls(sandbox) == [25, 1, 25]  # one page; then the first look, one page


def test_a_listing_that_ends_below_its_announced_total_is_an_error(
        start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: the server serves pages of 25 when 100 are asked (and says the total): the
    # first page is short, so the listing would end there; it is an error naming the table.
    sandbox = start(listing_page_cap=25)
    adapter = make_adapter(sandbox, page_size=100)
    with pytest.raises(PermanentApiError) as truncated:
        list(adapter.iter_keys("customerId"))
    message = str(truncated.value)
    assert "table Profiles (entity sandbox)" in message
    assert f"after 25 profiles of the {profile_count(sandbox):,} it announced" in message
    assert "page size" in message
    many = [f"C{n:06d}" for n in range(1, 150)]
    with pytest.raises(PermanentApiError, match="partial index"):
        existing_keys(adapter, "customerId", many)


def test_a_listing_that_fills_its_last_page_ends_on_an_empty_one(
        start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: a table of exactly 3 pages: the last full page is followed by one more look,
    # which is empty, and the listing ends complete.
    sandbox = start()
    table = sandbox.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    for pid in sorted(table.profiles)[300:]:
        table.delete(pid)
    adapter = make_adapter(sandbox, page_size=100)
    assert sum(len(page) for page in adapter.iter_keys("customerId")) == 300
    assert _page_calls(sandbox) == [100, 100, 100, 0]
