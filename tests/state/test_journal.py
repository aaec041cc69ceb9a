"""The apply journal on both backends: batches before and after sending, resume, migration."""
from __future__ import annotations

import pytest

from reconciler.changes.journal import JournalStep
from reconciler.state import LATEST_VERSION, JournalStatus, RunStatus, StateError
from tests.state.conftest import StateTarget


def test_batches_are_journaled_in_order_with_attempts_and_outcomes(state: StateTarget) -> None:
    # Scenario: an apply sends three batches: one confirmed, one failed then retried (pending).
    with state.writer() as store:
        run = store.start_run("vip")
        first = store.journal_begin(run, "vip", JournalStep.CREATE_RESOURCES, 0, 1, "segment")
        store.journal_confirm(first, 1)
        added = store.journal_begin(run, "vip", JournalStep.ADD_MEMBERS, 1, 1000, "keys:ab12")
        store.journal_confirm(added, 997)
        removed = store.journal_begin(run, "vip", JournalStep.REMOVE_MEMBERS, 1, 40, "K1..K40")
        store.journal_fail(removed, "HTTP 503 from Selligent")
        again = store.journal_begin(run, "vip", JournalStep.REMOVE_MEMBERS, 1, 40, "K1..K40")
        other = store.start_run("other")
        store.journal_begin(other, "other", JournalStep.UPDATE_PROFILES, 1, 5, "x")
        entries = store.journal_entries(run)
    assert [(e.step, e.batch_no, e.attempt, e.status) for e in entries] == [
        (JournalStep.CREATE_RESOURCES, 0, 1, JournalStatus.CONFIRMED),
        (JournalStep.ADD_MEMBERS, 1, 1, JournalStatus.CONFIRMED),
        (JournalStep.REMOVE_MEMBERS, 1, 1, JournalStatus.FAILED),
        (JournalStep.REMOVE_MEMBERS, 1, 2, JournalStatus.PENDING),
    ]
    assert entries[1].rows == 1000 and entries[1].confirmed_rows == 997
    assert entries[1].fingerprint == "keys:ab12" and entries[1].finished_at is not None
    assert entries[2].error == "HTTP 503 from Selligent"
    assert entries[3].entry_id == again and entries[3].finished_at is None
    assert entries[3].started_at >= entries[0].started_at


def test_a_killed_run_is_found_unfinished_with_its_pending_batch(state: StateTarget) -> None:
    # Scenario: an apply died after sending a batch; the next apply finds what to check.
    with state.writer() as store:
        done = store.start_run("vip")
        store.finish_run(done, RunStatus.SUCCEEDED)
        killed = store.start_run("vip")
        entry = store.journal_begin(killed, "vip", JournalStep.ADD_MEMBERS, 1, 10, "k")
    with state.reader() as reader:
        unfinished = reader.unfinished_runs("vip")
        assert [r.run_id for r in unfinished] == [killed]
        pending = [e for e in reader.journal_entries(killed)
                   if e.status is JournalStatus.PENDING]
        assert [e.entry_id for e in pending] == [entry]
        assert reader.unfinished_runs("other") == ()
    with state.writer() as store:
        store.finish_run(killed, RunStatus.INTERRUPTED, error="resumed by a later apply")
        assert store.unfinished_runs("vip") == ()


def test_journal_outcomes_are_recorded_once(state: StateTarget) -> None:
    # Scenario: a bug confirms a batch twice, or an unknown entry: a clear error, no change.
    with state.writer() as store:
        run = store.start_run("vip")
        entry = store.journal_begin(run, "vip", JournalStep.ADD_MEMBERS, 1, 10, "k")
        store.journal_confirm(entry, 10)
        with pytest.raises(StateError, match="already confirmed"):
            store.journal_fail(entry, "late")
        with pytest.raises(StateError, match="no such entry"):
            store.journal_confirm("nope", 1)
        assert store.journal_entries(run)[0].confirmed_rows == 10


def test_a_store_of_schema_2_gains_locks_and_journal_with_its_data(state: StateTarget) -> None:
    # Scenario: a store written before locks and journal existed is opened for an apply.
    with state.writer(migrate_to=2) as old:
        run = old.start_run("vip")
    with state.writer() as store:
        assert store.schema_version() == LATEST_VERSION >= 3
        assert store.locks() == () and store.journal_entries(run) == ()
        assert [r.run_id for r in store.unfinished_runs("vip")] == [run]
        store.acquire_lock("vip", "apply", 60)
    with state.reader() as reader:
        assert [lock.activation for lock in reader.locks()] == ["vip"]
