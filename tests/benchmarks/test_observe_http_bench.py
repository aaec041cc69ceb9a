"""Issue 14's bench over real HTTP at its quick size (100k contacts, 10k members): the
Selligent sandbox serves the real client at the documented 2,500 requests a minute."""
from __future__ import annotations

from bench.observe import SELLIGENT
from bench.observe_http import run


def test_the_quick_http_observe_bench_meets_the_acceptance_shape() -> None:
    # Scenario: first, steady and --refresh plans against the Selligent sandbox over HTTP
    # (its own process, 20 ms latency): the requests are the sandbox's count — a first plan
    # a page per 1,000 contacts and the record count, a steady plan the count and one search
    # per new key, --refresh every page again — none refused, the same members matched.
    lines: list[str] = []
    costs = run(100_000, 10_000, created=5, emit=lines.append)
    first, steady, refresh = costs["first"], costs["steady"], costs["refresh"]
    assert first.requests == 100 + 1 and refresh.requests == 101 + 1, lines
    assert steady.requests == 5 + 1, lines
    assert steady.seconds <= 60 and steady.requests <= 0.02 * SELLIGENT.daily
    assert first.matched == 9_700 and steady.matched == refresh.matched == 9_705
    assert not any("429" in line for line in lines), lines
    assert [line.split(" steady plan")[0] for line in lines
            if line.startswith("observe:")] == ["observe: selligent"]
