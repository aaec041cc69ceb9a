"""The client-side pacer: evenly spaced starts a little under the budget, wider after 429s."""
from __future__ import annotations

import threading
import time

import pytest

from reconciler.destinations.pacing import (
    HEADROOM,
    MOST_SLOWED,
    SLOW_DOWN,
    Pacer,
    share_budgets_with,
    shared_pacer,
)


def test_calls_from_several_threads_start_evenly_spaced_under_the_budget() -> None:
    # Scenario: 3 threads start 4 calls each at a budget of 50/s: never more than k+1 in k/50 s.
    pacer, starts, lock = Pacer(50), [], threading.Lock()

    def calls() -> None:
        for _ in range(4):
            pacer.wait()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=calls) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    # A thread may wake up late (the OS), never early: the k-th call starts no sooner than k
    # spacings after the first, whichever thread makes it.
    spacing = (1 + HEADROOM) / 50
    assert all(start - starts[0] >= k * spacing - 0.001 for k, start in enumerate(starts))


@pytest.mark.parametrize(("refusals", "factor"), [
    (0, 1 + HEADROOM),
    (1, (1 + HEADROOM) * SLOW_DOWN),
    (2, (1 + HEADROOM) * SLOW_DOWN ** 2),
    (50, MOST_SLOWED),
])
def test_each_429_widens_the_spacing_up_to_a_limit(refusals: int, factor: float) -> None:
    # Scenario: after `refusals` 429s the spacing is the budget's times `factor`.
    pacer = Pacer(4)
    for _ in range(refusals):
        pacer.slow_down()
    assert pacer.interval == pytest.approx(factor / 4)


def test_no_budget_never_waits() -> None:
    # Scenario: without a budget, calls start at once, 429s or not.
    pacer = Pacer(None)
    pacer.slow_down()
    started = time.monotonic()
    for _ in range(100):
        pacer.wait()
    assert time.monotonic() - started < 0.05


def test_one_budget_per_key_in_a_process_the_strictest_pace_wins() -> None:
    # Scenario: two activations' clients of one Selligent key share a pacer; a third asking a
    # slower pace slows them all; another key has its own.
    from reconciler.destinations.pacing import shared_pacer

    first = shared_pacer("https://t.slgnt.eu/Portal/Api key-a", 30)
    again = shared_pacer("https://t.slgnt.eu/Portal/Api key-a", 30)
    other = shared_pacer("https://t.slgnt.eu/Portal/Api key-b", 30)
    assert first is again and first is not other
    shared_pacer("https://t.slgnt.eu/Portal/Api key-a", 10)
    assert first.interval == pytest.approx((1 + HEADROOM) / 10)
    shared_pacer("https://t.slgnt.eu/Portal/Api key-a", 50)  # faster: ignored
    assert first.interval == pytest.approx((1 + HEADROOM) / 10)
    assert other.interval == pytest.approx((1 + HEADROOM) / 30)


class FakeClock:
    """Monotonic time that moves only when a pacer sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


class ScheduleLedger:
    """A ledger on the same clock as the pacers: one next free slot per budget."""

    def __init__(self, clock: FakeClock, *, answer: bool = True) -> None:
        self.clock, self.answer = clock, answer
        self.next_at: dict[str, float] = {}
        self.claims: list[tuple[str, int, float]] = []

    def claim(self, budget: str, count: int, interval: float) -> float | None:
        self.claims.append((budget, count, interval))
        if not self.answer:
            return None
        start = max(self.next_at.get(budget, 0.0), self.clock.now)
        self.next_at[budget] = start + count * interval
        return start - self.clock.now


def shared_pacer_on(clock: FakeClock, ledger: ScheduleLedger, per_second: float) -> Pacer:
    return Pacer(per_second, budget="key-hash", ledger=lambda: ledger,
                 monotonic=clock.monotonic, sleep=clock.sleep)


def test_two_processes_on_one_ledger_share_the_budget_in_disjoint_blocks() -> None:
    # Scenario: two busy processes (each its own clock and pacer) of one key at 10/s: each
    # claims about a second of slots at a time; together they keep the budget's spacing, so
    # 80 calls take 8 s, not the 4 s each would take pacing alone. Simulated as events: the
    # process whose next call comes first goes next, the ledger reads that moment.
    world = FakeClock()
    ledger = ScheduleLedger(world)
    clocks = [FakeClock(), FakeClock()]
    pacers = [Pacer(10, budget="key-hash", ledger=lambda: ledger, monotonic=c.monotonic,
                    sleep=c.sleep) for c in clocks]
    starts = []
    for _ in range(80):
        turn = min(range(2), key=lambda i: clocks[i].now)
        world.now = clocks[turn].now
        pacers[turn].wait()
        starts.append((turn, clocks[turn].now))
    times = sorted(at for _, at in starts)
    spacing = (1 + HEADROOM) / 10
    assert all(b - a >= spacing - 1e-9 for a, b in zip(times, times[1:], strict=False))
    # The whole key's pace: 79 spacings, plus the slots the other process's last block holds.
    assert 79 * spacing <= times[-1] - times[0] <= (79 + int(1 / spacing)) * spacing
    assert {turn for turn, _ in starts} == {0, 1}
    assert {count for _, count, _ in ledger.claims} == {int(1 / spacing)}


def test_slots_the_process_was_too_late_for_are_dropped_not_sent_in_a_burst() -> None:
    # Scenario: a process claims a block, then is busy for 5 s (reading its warehouse): its
    # stale slots are dropped and a new block claimed; no two calls start closer than spacing.
    clock = FakeClock()
    ledger = ScheduleLedger(clock)
    pacer = shared_pacer_on(clock, ledger, 10)
    pacer.wait()
    first = clock.now
    clock.now += 5.0
    starts = []
    for _ in range(3):
        pacer.wait()
        starts.append(clock.now)
    assert len(ledger.claims) == 2
    assert starts[0] == pytest.approx(first + 5.0)
    assert starts[1] - starts[0] == pytest.approx((1 + HEADROOM) / 10)


def test_a_ledger_that_cannot_answer_leaves_the_process_pacing_on_its_own() -> None:
    # Scenario: the ledger answers None (no table, no right to write): calls are still paced.
    clock = FakeClock()
    pacer = shared_pacer_on(clock, ScheduleLedger(clock, answer=False), 10)
    starts = []
    for _ in range(5):
        pacer.wait()
        starts.append(clock.now)
    assert starts[-1] - starts[0] == pytest.approx(4 * (1 + HEADROOM) / 10)


def test_the_shared_pacer_of_a_key_uses_the_ledger_shared_at_call_time() -> None:
    # Scenario: a key's pacer made during the plan, before a ledger was shared, claims from
    # the apply's ledger; its budget name is the key's hash, never the key.
    clock = FakeClock()
    pacer = shared_pacer("https://tenant.example/Portal/Api secret-key", 10)
    pacer._monotonic, pacer._sleep = clock.monotonic, clock.sleep
    ledger = ScheduleLedger(clock)
    share_budgets_with(ledger)
    try:
        pacer.wait()
    finally:
        share_budgets_with(None)
    [(budget, _, _)] = ledger.claims
    assert "secret-key" not in budget and len(budget) == 64
    pacer.wait()
    assert len(ledger.claims) == 1  # no ledger now: local pacing
