"""Issue 14's bench over real HTTP at its quick size (100k contacts, 10k members): each
sandbox, in its own process, serves the real client at its documented limits."""
from __future__ import annotations

from bench.observe import ACTITO, SELLIGENT
from bench.observe_http import run


def test_the_quick_http_observe_bench_meets_the_acceptance_shape() -> None:
    # Scenario: first, steady and --refresh plans against the Selligent and Actito sandboxes
    # over HTTP (20 ms latency), requests counted by the sandboxes: Selligent's first plan a
    # page per 1,000 contacts and the record count, its steady plan the count and one search
    # per new key, --refresh every page again; Actito's full reads are the day's export (no
    # API call), its steady plan the new keys' lookups (and a token); none refused, the same
    # members matched.
    lines: list[str] = []
    results = run(100_000, 10_000, created=5, emit=lines.append)
    selligent, actito = results["selligent"], results["actito"]
    assert selligent["first"].requests == 100 + 1, lines
    assert selligent["refresh"].requests == 101 + 1, lines
    assert selligent["steady"].requests == 5 + 1, lines
    assert actito["first"].requests == 0 and actito["refresh"].requests == 0, lines
    assert 5 <= actito["steady"].requests <= 5 + 2, lines
    for costs, limits in ((selligent, SELLIGENT), (actito, ACTITO)):
        steady = costs["steady"]
        assert steady.seconds <= 60 and steady.requests <= 0.02 * limits.daily
        assert costs["first"].matched == 9_700
        assert steady.matched == costs["refresh"].matched == 9_705
    assert not any("429" in line for line in lines), lines
    assert [line.split(" steady plan")[0] for line in lines
            if line.startswith("observe:")] == ["observe: selligent", "observe: actito"]
