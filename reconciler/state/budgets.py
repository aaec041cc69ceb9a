"""Request budgets shared by processes through the PostgreSQL state store.

Owns the `request_budgets` table's use: one row per budget (a destination key's hashed
identity, never the key), holding the next free call slot on the database server's clock.
A claim moves it forward by `count × interval` in one statement, so processes on different
machines (a GitHub Actions matrix) get disjoint, evenly spaced blocks of slots and together stay
under the budget whatever their own clocks say. The ledger has its own autocommit connection:
claims must not wait behind the store's long transactions (a snapshot COPY) nor be refused by
a read-only plan's session. When it cannot answer (no such table yet, no right to write it,
connection lost) it says so once and answers None: the process then paces on its own, as it
does on a DuckDB state, which only one process can use at a time anyway.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

from reconciler.state.postgres_backend import printable_url
from reconciler.state.store import DEFAULT_POSTGRES_SCHEMA, is_postgres_location, split_schema

log = logging.getLogger(__name__)
RETRY_SECONDS = 30.0  # after a failed claim, pace locally this long before asking again

_CLAIM = """
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
INSERT INTO {table} AS b (budget, next_at)
SELECT %(budget)s, clock.now + %(span)s FROM clock
ON CONFLICT (budget) DO UPDATE
    SET next_at = greatest(b.next_at, excluded.next_at - %(span)s) + %(span)s
RETURNING b.next_at - %(span)s - (SELECT now FROM clock)
"""


class PostgresBudgetLedger:
    """The `BudgetLedger` of `reconciler.destinations.pacing` on a PostgreSQL state."""

    def __init__(self, url: str, schema: str) -> None:
        self._url = url
        self.location = f"{printable_url(url)} (schema {schema})"
        self._claim = sql.SQL(_CLAIM).format(table=sql.Identifier(schema, "request_budgets"))
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._warned = False

    def claim(self, budget: str, count: int, interval: float) -> float | None:
        with self._lock:
            if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_SECONDS:
                return None
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
                row = self._conn.execute(self._claim, {"budget": budget,
                                                       "span": count * interval}).fetchone()
            except psycopg.Error as exc:
                self._failed(exc)
                return None
            self._failed_at = None
            return float(row[0]) if row is not None else None

    def _failed(self, exc: psycopg.Error) -> None:
        self._failed_at = time.monotonic()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if not self._warned:
            self._warned = True
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            log.warning("request budgets are not shared with other processes through the state "
                        "store %s (%s): this process paces its calls on its own; an apply "
                        "creates the table (schema version 7)", self.location, reason)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def open_budget_ledger(location: str | Path | None) -> PostgresBudgetLedger | None:
    """The shared ledger of a PostgreSQL state (None for DuckDB: one process at a time).
    Connects on its first claim, so a plan that calls no paced API costs no connection."""
    if location is None or not is_postgres_location(location):
        return None
    url, named = split_schema(str(location))
    return PostgresBudgetLedger(url, named or DEFAULT_POSTGRES_SCHEMA)
