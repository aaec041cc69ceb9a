"""Where an activation's attribute updates are bulk-imported, and that table's daily budget.

A destination that counts bulk imports against a quota (Actito) says so through
`destinations/capabilities.py`; the plan carries the answer for each activation, so apply
and the budget ledger use what the plan showed.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportTarget:
    """An account's table and how many bulk imports it takes per UTC day."""

    account: str
    table: str
    daily_budget: int
