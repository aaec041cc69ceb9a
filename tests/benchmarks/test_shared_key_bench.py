"""Issue 12's acceptance on the shared-key bench: 20 activations on one Selligent key under a
120-a-minute budget, against the sandbox's documented 429 (real pace: ~45 s)."""
from __future__ import annotations

from bench.shared_key import busiest_window, run


def test_twenty_activations_on_one_key_converge_within_its_budget() -> None:
    # Scenario: the server counts 120 requests a minute for the key (its 60-s window) and the
    # manifest declares the same budget: every activation applies, none is refused a call,
    # and no 60 s of traffic goes over the budget.
    result = run(activations=20, per_minute=120, client_per_minute=120)
    assert (result["applied"], result["failed"]) == (20, 0)
    assert result["limited"] == 0 and result["waits"] == 0
    assert result["busiest_minute"] <= 120
    assert result["requests"] >= 20 * 3  # each activation read, created and loaded its segment


def test_the_busiest_window_counts_requests_in_any_60_seconds() -> None:
    assert busiest_window([0.0, 1.0, 59.9, 60.0, 61.0]) == 3
    assert busiest_window([]) == 0
