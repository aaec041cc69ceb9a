"""Request budgets shared by processes through the PostgreSQL state (matrix jobs on one key)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from reconciler.destinations.pacing import current_ledger
from reconciler.operations.budgets import shared_request_budgets
from reconciler.state import PostgresBudgetLedger, open_budget_ledger, open_state_store


def migrated(url: str, schema: str) -> str:
    """The location of a PostgreSQL state migrated to the latest schema."""
    location = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    open_state_store(location).close()
    return location


def test_claims_from_two_connections_chain_into_one_schedule(postgres_url: str,
                                                             postgres_schema: str) -> None:
    # Scenario: two processes' ledgers claim 50 one-second blocks each, at once, from threads:
    # every claim lands after the one before (no overlap, none lost), on the server's clock.
    location = migrated(postgres_url, postgres_schema)
    ledgers = [open_budget_ledger(location) for _ in range(2)]
    assert all(isinstance(ledger, PostgresBudgetLedger) for ledger in ledgers)
    delays: list[float] = []
    lock = threading.Lock()

    def claims(ledger: PostgresBudgetLedger) -> None:
        for _ in range(50):
            delay = ledger.claim("budget-hash", 10, 0.1)
            assert delay is not None
            with lock:
                delays.append(delay)

    threads = [threading.Thread(target=claims, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    # Claims take milliseconds and each books 1 s: the k-th claim waits about k - 1 seconds.
    assert sorted(round(d) for d in delays) == list(range(100))
    with psycopg.connect(postgres_url) as conn:
        [(budgets,)] = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(postgres_schema, "request_budgets"))).fetchall()
    assert budgets == 1


def test_budgets_are_separate(postgres_url: str, postgres_schema: str) -> None:
    # Scenario: two keys' budgets do not wait for each other.
    ledger = open_budget_ledger(migrated(postgres_url, postgres_schema))
    assert ledger is not None
    try:
        assert ledger.claim("key-a", 10, 1.0) == pytest.approx(0.0, abs=0.5)
        assert ledger.claim("key-b", 10, 1.0) == pytest.approx(0.0, abs=0.5)
        assert ledger.claim("key-a", 10, 1.0) == pytest.approx(10.0, abs=0.5)
    finally:
        ledger.close()


def test_a_store_without_the_table_paces_locally_and_says_so_once(
    postgres_url: str, postgres_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Scenario: a plan on a store no apply has migrated yet: no table, so no shared schedule;
    # one warning naming the store (never its password), then None without asking again.
    ledger = open_budget_ledger(f"{postgres_url}?schema={postgres_schema}")
    assert ledger is not None
    with caplog.at_level(logging.WARNING):
        assert ledger.claim("key", 10, 0.1) is None
        assert ledger.claim("key", 10, 0.1) is None
    ledger.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not shared with other processes" in warnings[0] and postgres_schema in warnings[0]


def test_duckdb_states_have_no_ledger(tmp_path: Path) -> None:
    # Scenario: a DuckDB state admits one process at a time: nothing to share.
    assert open_budget_ledger(str(tmp_path / "state.duckdb")) is None
    with shared_request_budgets(str(tmp_path / "state.duckdb")):
        assert current_ledger() is None


def test_a_plan_or_apply_shares_the_ledger_while_it_runs(postgres_url: str,
                                                         postgres_schema: str) -> None:
    location = migrated(postgres_url, postgres_schema)
    with shared_request_budgets(location):
        ledger = current_ledger()
        assert isinstance(ledger, PostgresBudgetLedger)
        assert ledger.claim("key", 1, 0.1) == pytest.approx(0.0, abs=0.5)
    assert current_ledger() is None


def test_in_flight_slots_are_shared_by_processes_and_never_nest(postgres_url: str,
                                                                postgres_schema: str) -> None:
    # Scenario: two processes' ledgers (own connections) and 3 threads each want one of 2
    # slots of a licence at once: never more than 2 held, and every thread gets its turn. A
    # session's advisory locks nest, so a process must never take a slot it already holds.
    location = f"{postgres_url}{'&' if '?' in postgres_url else '?'}schema={postgres_schema}"
    ledgers = [open_budget_ledger(location) for _ in range(2)]
    holding, most, done = [0], [0], []
    lock = threading.Lock()
    release = threading.Barrier(2, timeout=10)  # the first two holders meet while both hold

    def call(ledger: PostgresBudgetLedger, name: str) -> None:
        assert ledger is not None
        with ledger.in_flight("licence-hash:in-flight", 2):
            with lock:
                holding[0] += 1
                most[0] = max(most[0], holding[0])
                first_two = len(done) + holding[0] <= 2
            if first_two:
                release.wait()  # proves two are held at once, across the two ledgers
            with lock:
                holding[0] -= 1
                done.append(name)

    threads = [threading.Thread(target=call, args=(ledgers[i % 2], f"t{i}")) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for ledger in ledgers:
        assert ledger is not None
        ledger.close()
    assert most[0] == 2 and len(done) == 6
