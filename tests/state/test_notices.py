"""Notices sent once: claimed atomically, released when their delivery failed (both backends)."""
from __future__ import annotations

import datetime as dt
import threading

from reconciler.state import open_state_store
from tests.state.conftest import StateTarget

T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
NOTICE = "api-key-expiry:selligent_sandbox:2026-12-06:crm-alerts"


def test_a_notice_is_claimed_once(state: StateTarget) -> None:
    # Scenario: two runs claim the same notice; only the first records it, at its own time.
    with state.writer() as store:
        assert store.claim_notice(NOTICE, T0) is True
        assert store.claim_notice(NOTICE, T0 + dt.timedelta(hours=1)) is False
    with state.writer() as store:  # a later process: still sent
        assert store.claim_notice(NOTICE, T0 + dt.timedelta(days=1)) is False
    with state.reader() as reader:
        assert reader.notices() == {NOTICE: T0}


def test_a_new_expiry_date_is_a_new_notice(state: StateTarget) -> None:
    # Scenario: the key was renewed and `expiresOn` moved: the new date's notice is new.
    renewed = NOTICE.replace("2026-12-06", "2027-12-06")
    with state.writer() as store:
        assert store.claim_notice(NOTICE, T0)
        assert store.claim_notice(renewed, T0 + dt.timedelta(days=300))
        assert store.claim_notice(renewed, T0 + dt.timedelta(days=301)) is False
    with state.reader() as reader:
        assert list(reader.notices()) == [NOTICE, renewed]


def test_a_released_notice_can_be_claimed_again(state: StateTarget) -> None:
    # Scenario: the delivery failed, so the claim is released; the next run claims it again.
    later = T0 + dt.timedelta(minutes=15)
    with state.writer() as store:
        assert store.claim_notice(NOTICE, T0)
        store.release_notice(NOTICE)
        assert store.notices() == {}
        assert store.claim_notice(NOTICE, later)
        assert store.notices() == {NOTICE: later}


def test_notices_are_read_by_prefix_with_names_taken_literally(state: StateTarget) -> None:
    # Scenario: `_` in a destination name is not a wildcard: `a_b` does not match `aXb`.
    with state.writer() as store:
        store.claim_notice("api-key-expiry:a_b:2026-12-06:ops", T0)
        store.claim_notice("api-key-expiry:aXb:2026-12-06:ops", T0)
        store.claim_notice("other:a_b", T0)
    with state.reader() as reader:
        assert list(reader.notices("api-key-expiry:a_b:")) == ["api-key-expiry:a_b:2026-12-06:ops"]


def test_a_store_never_written_reads_no_notices(state: StateTarget) -> None:
    with state.reader() as reader:
        assert reader.notices() == {}


def test_a_store_at_version_6_gains_notices(state: StateTarget) -> None:
    # Scenario: a store made before migration 7 is migrated by the next writer.
    with state.writer(migrate_to=6) as old:
        old.start_run("churn")
    with state.writer() as store:
        assert store.schema_version() >= 7
        assert store.claim_notice(NOTICE, T0)


def test_parallel_jobs_claim_a_notice_once(postgres_url: str, postgres_schema: str) -> None:
    # Scenario: eight jobs sharing a PostgreSQL store claim the same notice at the same time:
    # exactly one gets it (DuckDB has one writing process at a time by its file lock).
    open_state_store(postgres_url, schema=postgres_schema).close()  # migrated before the race
    start, results = threading.Barrier(8), []

    def job() -> None:
        with open_state_store(postgres_url, schema=postgres_schema) as store:
            start.wait()
            results.append(store.claim_notice(NOTICE, T0))

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]
