"""The client-side pacer: evenly spaced starts a little under the budget, wider after 429s."""
from __future__ import annotations

import threading
import time

import pytest

from reconciler.destinations.pacing import HEADROOM, MOST_SLOWED, SLOW_DOWN, Pacer


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
