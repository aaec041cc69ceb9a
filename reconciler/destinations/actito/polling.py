"""How often we ask Actito whether an asynchronous job is done (an ETL execution, a key file).

Actito documents no polling interval ([I], inferred): an ETL on a large file takes minutes,
a small one seconds. So the first look comes soon and the gap doubles up to `cap` seconds:
a quick job is seen quickly, a slow one costs few calls against the licence's budget.
"""
from __future__ import annotations

from collections.abc import Iterator

FIRST_LOOK_SECONDS = 0.25


def poll_delays(cap: float, first: float = FIRST_LOOK_SECONDS) -> Iterator[float]:
    """The pauses between looks: `first`, doubling, never over `cap` (endless)."""
    delay = min(first, cap)
    while True:
        yield delay
        delay = min(delay * 2, cap)
