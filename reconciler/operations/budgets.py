"""Request budgets shared across processes for the length of a plan or an apply.

On a PostgreSQL state every paced destination client of this process takes its call slots from
the store's ledger (`reconciler.state.budgets`), so matrix jobs using one API key share its
budget (api/selligent.md §8: 2,500 requests a minute per key); on DuckDB they pace per process.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.destinations.pacing import share_budgets_with
from reconciler.state import open_budget_ledger


@contextmanager
def shared_request_budgets(location: str | None) -> Iterator[None]:
    """Pace through the ledger of the state at `location` (a resolved store location)."""
    ledger = open_budget_ledger(location)
    if ledger is None:
        yield
        return
    share_budgets_with(ledger)
    try:
        yield
    finally:
        share_budgets_with(None)
        ledger.close()
