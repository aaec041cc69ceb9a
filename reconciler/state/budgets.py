"""Request budgets shared by processes through the PostgreSQL state store.

Owns the `request_budgets` table's use: one row per budget (a destination key's hashed
identity, never the key), holding the next free call slot on the database server's clock.
A claim moves it forward by `count × interval` in one statement, so processes on different
machines (a GitHub Actions matrix) get disjoint, evenly spaced blocks of slots and together stay
under the budget whatever their own clocks say. In-flight caps (Actito: 5 requests at once per
licence) are session advisory locks, one per slot, held on the same connection while a call
runs: the server frees them if the process dies, and no table is written. The ledger has its
own autocommit connection:
claims must not wait behind the store's long transactions (a snapshot COPY) nor be refused by
a read-only plan's session. When it cannot answer (no such table yet, no right to write it,
connection lost) it says so once and answers None: the process then paces on its own, as it
does on a DuckDB state, which only one process can use at a time anyway.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from reconciler.connections import printable_url
from reconciler.state.store import DEFAULT_POSTGRES_SCHEMA, is_postgres_location, split_schema

log = logging.getLogger(__name__)
RETRY_SECONDS = 30.0  # after a failed claim, pace locally this long before asking again
POLL_SECONDS = (0.02, 0.25)  # waiting for a free in-flight slot: first and longest poll
MOST_WAIT_SECONDS = 600.0  # no slot freed in this long: go on without one, and say so

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
        self._schema = schema
        self._held: set[tuple[int, int]] = set()  # in-flight slots this process holds

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
        return self._conn

    def _answering(self) -> bool:
        return self._failed_at is None or time.monotonic() - self._failed_at >= RETRY_SECONDS

    def claim(self, budget: str, count: int, interval: float) -> float | None:
        with self._lock:
            if not self._answering():
                return None
            try:
                row = self._connection().execute(self._claim, {
                    "budget": budget, "span": count * interval}).fetchone()
            except psycopg.Error as exc:
                self._failed(exc)
                return None
            self._failed_at = None
            return float(row[0]) if row is not None else None

    @contextmanager
    def in_flight(self, budget: str, limit: int) -> Iterator[None]:
        slot = self._take_slot(_lock_key(self._schema, budget), limit)
        try:
            yield
        finally:
            if slot is not None:
                self._give_back(slot)

    def _take_slot(self, key: int, limit: int) -> tuple[int, int] | None:
        """One of `limit` advisory locks of `key` this process does not hold yet, waiting for
        one to be free; None when the ledger cannot answer or nothing freed for too long."""
        pause, started = POLL_SECONDS[0], time.monotonic()
        while True:
            with self._lock:
                if not self._answering():
                    return None
                try:
                    for index in range(limit):
                        slot = (key, index)
                        if slot in self._held:  # session locks nest: skip our own
                            continue
                        row = self._connection().execute(
                            "SELECT pg_try_advisory_lock(%s, %s)", slot).fetchone()
                        if row is not None and row[0]:
                            self._held.add(slot)
                            return slot
                except psycopg.Error as exc:
                    self._failed(exc)
                    return None
            if time.monotonic() - started > MOST_WAIT_SECONDS:
                log.warning("no in-flight slot of a shared request budget was freed in %.0f s "
                            "(state store %s): calling without one", MOST_WAIT_SECONDS,
                            self.location)
                return None
            time.sleep(pause)
            pause = min(pause * 2, POLL_SECONDS[1])

    def _give_back(self, slot: tuple[int, int]) -> None:
        with self._lock:
            self._held.discard(slot)
            try:
                if self._conn is not None and not self._conn.closed:
                    self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", slot)
            except psycopg.Error as exc:  # a lost session has freed its locks already
                self._failed(exc)

    def _failed(self, exc: psycopg.Error) -> None:
        self._failed_at = time.monotonic()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._held.clear()  # the session's locks went with it
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


def _lock_key(schema: str, budget: str) -> int:
    """A signed 32-bit advisory-lock key for a budget (locks are per database: the schema is
    part of it, so two projects' states in one database do not share slots)."""
    digest = hashlib.sha256(f"reconciler:{schema}:{budget}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def open_budget_ledger(location: str | Path | None) -> PostgresBudgetLedger | None:
    """The shared ledger of a PostgreSQL state (None for DuckDB: one process at a time).
    Connects on its first claim, so a plan that calls no paced API costs no connection."""
    if location is None or not is_postgres_location(location):
        return None
    url, named = split_schema(str(location))
    return PostgresBudgetLedger(url, named or DEFAULT_POSTGRES_SCHEMA)
