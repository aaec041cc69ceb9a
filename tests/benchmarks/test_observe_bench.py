"""Issue 14's bench at its quick size (100k contacts, 10k members), so it does not rot: the
contact index makes a steady plan cost its change, a first plan costs its pages."""
from __future__ import annotations

from bench.observe import ACTITO, SELLIGENT, run


def test_the_quick_observe_bench_meets_the_acceptance_shape() -> None:
    # Scenario: first, steady and --refresh plans against both modelled destinations at their
    # documented limits and 20 ms latency: a steady plan sends a few calls (the count and the
    # new keys), a first Selligent plan stays within 1.2x of its pages at the budget (plus
    # a fixed cost at this size), Actito's reads the export, and all match the same members.
    lines: list[str] = []
    results = run(100_000, 10_000, created=5, emit=lines.append)
    for limits in (SELLIGENT, ACTITO):
        costs = results[limits.name]
        steady, first = costs["steady"], costs["first"]
        assert steady.seconds <= 60 and steady.requests <= 0.02 * limits.daily
        assert steady.requests <= 6 + 1  # 5 new keys checked and the record count
        assert first.matched == 9_700 and steady.matched == costs["refresh"].matched == 9_705
    first = results["selligent"]["first"]  # Actito's first read is the export: no call
    assert results["actito"]["first"].requests == 0
    assert first.seconds <= 1.2 * first.requests * SELLIGENT.seconds(1, 0.020) + 2.0
    assert [line.split(" steady plan")[0] for line in lines if line.startswith("observe:")] == [
        "observe: selligent", "observe: actito"]
