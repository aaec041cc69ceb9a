"""Fencing on both backends: while a store holds an activation's apply lock, its writes of that
activation carry the lock's token, and a token that is no longer the lock's writes nothing."""
from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from reconciler.state import (
    JournalStatus,
    JournalStep,
    LockLostError,
    RemoteKind,
    RunStatus,
    StaleStateError,
)
from tests.state.conftest import StateTarget
from tests.timing import wait_until


def _members(*keys: str) -> pa.RecordBatch:
    return pa.record_batch([pa.array(keys, pa.string()), pa.array(["h"] * len(keys))],
                           names=["member_key", "attributes_hash"])


def test_a_holder_whose_lock_was_taken_over_writes_nothing(state: StateTarget) -> None:
    # Scenario: apply A paused mid-run; its lock was broken and apply B took it. Every write
    # of A's (journal entry, its outcome, snapshot, remote id, run end) is refused, nothing
    # changes; B's writes go through.
    with state.writer() as a, state.writer() as b:
        a.acquire_lock("vip", "apply A", 60)
        run_a = a.start_run("vip")
        entry = a.journal_begin(run_a, "vip", JournalStep.ADD_MEMBERS, 1, 1, "f1")
        a.write_snapshot("vip", [_members("k1")])
        serial = a.serial("vip")
        b.break_lock("vip")
        lock_b = b.acquire_lock("vip", "apply B", 60)
        stale = [
            lambda: a.journal_begin(run_a, "vip", JournalStep.ADD_MEMBERS, 2, 1, "f2"),
            lambda: a.journal_confirm(entry, 1),
            lambda: a.journal_fail(entry, "timeout"),
            lambda: a.write_snapshot("vip", [_members("k1", "k2")]),
            lambda: a.set_remote_id("vip", RemoteKind.SEGMENT, "VIP"),
            lambda: a.finish_run(run_a, RunStatus.SUCCEEDED),
            lambda: a.start_run("vip"),
        ]
        for write in stale:
            with pytest.raises(LockLostError, match="now held by apply B .*stop writing"):
                write()
        assert b.serial("vip") == serial
        assert [(e.batch_no, e.status) for e in b.journal_entries(run_a)] == [
            (1, JournalStatus.PENDING)]
        assert b.remote_id("vip", RemoteKind.SEGMENT) is None
        assert [r.status for r in b.runs("vip")] == [RunStatus.RUNNING]
        snapshot = b.stream_snapshot("vip").read_all()
        assert snapshot.column("member_key").to_pylist() == ["k1"]
        b.finish_run(run_a, RunStatus.INTERRUPTED)  # the new holder resumes A's run
        run_b = b.start_run("vip")
        b.journal_confirm(b.journal_begin(run_b, "vip", JournalStep.ADD_MEMBERS, 1, 2, "f"), 2)
        b.write_snapshot("vip", [_members("k1", "k2")])
        b.finish_run(run_b, RunStatus.SUCCEEDED)
        b.release_lock(lock_b)
        assert b.serial("vip") > serial


def test_a_lapsed_lease_writes_nothing_until_renewed(state: StateTarget) -> None:
    # Scenario: A's lease ran out (its renewals stopped) and no one took over yet: its next
    # journal entry is refused all the same (another apply may start at any moment); renewed
    # in time, it writes again.
    with state.writer() as a:
        lock = a.acquire_lock("vip", "apply A", 0.2)
        run = a.start_run("vip")
        wait_until(lambda: a.locks()[0].expired(a.now()), "A's lease has run out")
        with pytest.raises(LockLostError, match="lease ran out .* without being renewed"):
            a.journal_begin(run, "vip", JournalStep.ADD_MEMBERS, 1, 1, "f")
        assert a.journal_entries(run) == ()
        a.renew_lock(dataclasses.replace(lock, lease_seconds=60))
        a.journal_begin(run, "vip", JournalStep.ADD_MEMBERS, 1, 1, "f")
        assert len(a.journal_entries(run)) == 1


def test_writes_without_a_lock_and_after_release_are_not_fenced(state: StateTarget) -> None:
    # Scenario: a refusal's run (no lock taken) and writes after the lock was given back
    # are plain writes, as before fencing; another store's lock does not fence this one.
    with state.writer() as a, state.writer() as b:
        a.start_run("vip")
        a.release_lock(a.acquire_lock("vip", "apply A", 60))
        a.set_remote_id("vip", RemoteKind.SEGMENT, "VIP")
        b.acquire_lock("vip", "apply B", 60)
        a.set_remote_id("vip", RemoteKind.FIELD, "LTV", name="LTV")
        assert a.remote_id("vip", RemoteKind.FIELD, "LTV") == "LTV"


def test_the_lock_is_taken_only_at_the_state_serial_the_plan_read(state: StateTarget) -> None:
    # Scenario: a plan read serial 0; another apply wrote since: taking the lock for that
    # plan is refused in the same transaction, and no lock is left behind.
    with state.writer() as a, state.writer() as b:
        a.set_remote_id("vip", RemoteKind.SEGMENT, "VIP")
        with pytest.raises(StaleStateError, match="state serial is 1, expected 0"):
            b.acquire_lock("vip", "apply B", 60, expect_serial=0)
        assert b.locks() == ()
        lock = b.acquire_lock("vip", "apply B", 60, expect_serial=1)
        b.release_lock(lock)


def test_a_stale_plan_is_refused_at_once_even_while_another_holds_the_lock(
        state: StateTarget) -> None:
    # Scenario: apply A holds the lock and has written; B's plan read the serial before: B is
    # told its plan is stale at once (no waiting for A's lock, which would change nothing).
    with state.writer() as a, state.writer() as b:
        a.acquire_lock("vip", "apply A", 60)
        a.start_run("vip")
        waits: list[float] = []
        with pytest.raises(StaleStateError, match="expected 0"):
            b.acquire_lock("vip", "apply B", 60, wait_seconds=60, pause=waits.append,
                           expect_serial=0)
        assert waits == [] and [lock.owner for lock in b.locks()] == ["apply A"]
