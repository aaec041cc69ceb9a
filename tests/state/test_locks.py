"""Apply locks on both backends, in one process: take, renew, release, take over, break."""
from __future__ import annotations

import datetime as dt

import pytest

from reconciler.state import LockedError, LockLostError, default_owner
from reconciler.state.keeper import LockKeeper
from tests.state.conftest import StateTarget
from tests.timing import wait_until


def test_a_held_lock_refuses_others_until_released(state: StateTarget) -> None:
    # Scenario: apply A holds 'vip'; apply B is refused with who, since when, until when.
    with state.writer() as a, state.writer() as b:
        lock = a.acquire_lock("vip", "apply by alice@ci-1 (pid 1)", 60)
        with pytest.raises(LockedError) as refused:
            b.acquire_lock("vip", "apply by bob@ci-2 (pid 2)", 60)
        message = str(refused.value)
        assert "'vip' is locked by apply by alice@ci-1 (pid 1) since" in message
        assert "lease until" in message and "reconciler state unlock vip" in message
        assert refused.value.holder.owner == "apply by alice@ci-1 (pid 1)"
        assert b.acquire_lock("other", "apply by bob@ci-2 (pid 2)", 60).activation == "other"
        renewed = a.renew_lock(lock)
        assert renewed.expires_at >= lock.expires_at and renewed.token == lock.token
        assert [x.activation for x in b.locks()] == ["other", "vip"]
        a.release_lock(renewed)
        assert b.acquire_lock("vip", "apply B", 60).owner == "apply B"


def test_an_expired_lease_is_taken_over_and_the_old_holder_learns_it(state: StateTarget) -> None:
    # Scenario: A's lease runs out (it hung); B takes over; A's renew and release then fail.
    with state.writer() as a, state.writer() as b:
        stale = a.acquire_lock("vip", "apply A", 0.2)
        wait_until(lambda: b.locks()[0].expired(b.now()), "A's lease has run out")
        taken = b.acquire_lock("vip", "apply B", 60)
        with pytest.raises(LockLostError, match="now held by apply B"):
            a.renew_lock(stale)
        with pytest.raises(LockLostError, match="stop writing"):
            a.release_lock(stale)
        assert [x.owner for x in b.locks()] == ["apply B"]
        b.release_lock(taken)
        assert b.locks() == ()


def test_break_lock_says_whose_it_was_and_waiting_acquires_after_release(
    state: StateTarget,
) -> None:
    # Scenario: a person breaks a lock; another apply waits for a holder that lets go soon.
    with state.writer() as a, state.writer() as b:
        assert a.break_lock("vip") is None
        lock = a.acquire_lock("vip", default_owner(), 60)
        broken = b.break_lock("vip")
        assert broken is not None and broken.owner == default_owner()
        with pytest.raises(LockLostError, match="was broken"):
            a.renew_lock(lock)
        lock = a.acquire_lock("vip", "apply A", 60)
        refusals: list[float] = []

        def let_go_once_refused(seconds: float) -> None:  # B was refused and waits: A lets go
            refusals.append(seconds)
            if len(refusals) == 1:
                a.release_lock(lock)

        waited = b.acquire_lock("vip", "apply B", 60, wait_seconds=10, pause=let_go_once_refused)
        assert waited.owner == "apply B" and len(refusals) == 1
        with pytest.raises(LockedError):
            a.acquire_lock("vip", "apply A", 60, wait_seconds=0.3)
        with pytest.raises(ValueError, match="more than 0 seconds"):
            a.acquire_lock("x", "apply A", 0)


def test_a_kept_lock_outlives_its_lease_until_broken(state: StateTarget) -> None:
    # Scenario: a long apply keeps a 0.6 s lease alive; when broken, check() stops it.
    with state.writer() as a, state.writer() as b:
        lock = a.acquire_lock("vip", "long apply", 0.6)
        first_expiry = lock.expires_at
        with a.keep_lock(lock, every_seconds=0.1) as keeper:
            wait_until(lambda: b.locks()[0].expires_at - first_expiry
                       > dt.timedelta(seconds=0.6), "the lease was renewed past a whole lease")
            keeper.check()
            with pytest.raises(LockedError):
                b.acquire_lock("vip", "intruder", 60)
            b.break_lock("vip")
            wait_until(lambda: _lost(keeper), "the keeper noticed the break")
            with pytest.raises(LockLostError, match="was broken"):
                keeper.check()
        assert b.locks() == ()


def _lost(keeper: LockKeeper) -> bool:
    try:
        keeper.check()
    except LockLostError:
        return True
    return False
