"""How often an asynchronous Actito job is looked at."""
from __future__ import annotations

import itertools

from reconciler.destinations.actito.polling import poll_delays


def test_looks_start_soon_and_double_up_to_the_cap() -> None:
    # Scenario: a 5-s cap; the first looks come quickly, then every 5 s.
    assert list(itertools.islice(poll_delays(5.0), 7)) == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_cap_below_the_first_look_is_the_only_delay() -> None:
    # Scenario: a test or a user asks for 0.1-s polling; it is never slower than that.
    assert list(itertools.islice(poll_delays(0.1), 3)) == [0.1, 0.1, 0.1]
