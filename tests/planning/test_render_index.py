"""What a plan says it read to know which keys exist (render.describe_index)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.planning.plan import ContactIndexRead, IndexSource
from reconciler.planning.render import describe_index

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
READ = NOW - timedelta(hours=3)


@pytest.mark.parametrize(("read", "said"), [
    (ContactIndexRead(source=IndexSource.STATE, keys=9_981_203, read_at=READ, checked=10_211,
                      found=10_180, check_calls=10_211),
     "contact index: 9,981,203 keys from state (read 3 h ago), 10,211 new keys checked in "
     "10,211 calls (10,180 found)"),
    (ContactIndexRead(source=IndexSource.FULL_READ, keys=10_000_000, read_at=NOW,
                      pages=10_000, read_calls=10_001, seconds=252.0, reason="no index kept yet"),
     "contact index: full read: 10,000 pages in 4 min 12 s, 10,001 calls, 10,000,000 keys "
     "(no index kept yet)"),
    (ContactIndexRead(source=IndexSource.EXPORT, keys=120, read_at=NOW, pages=1,
                      file="profiles_$yyyyMMdd.zip", reason="read 30 h ago, older than "
                      "indexMaxAge (24 h)"),
     "contact index: 120 keys from the export profiles_$yyyyMMdd.zip (one file, no API call) "
     "(read 30 h ago, older than indexMaxAge (24 h))"),
    (ContactIndexRead(source=IndexSource.STATE, keys=500, read_at=READ, shared=True,
                      checked=2, found=0, check_calls=2),
     "contact index: 500 keys, read for another activation, 2 new keys checked in 2 calls "
     "(0 found)"),
    (ContactIndexRead(source=IndexSource.CHECKED, keys=40, read_at=NOW, checked=50, found=40,
                      check_calls=50, reason="no index kept yet"),
     "contact index: every audience key checked (no index kept yet), 50 new keys checked in "
     "50 calls (40 found)"),
])
def test_the_plan_says_what_it_read(read: ContactIndexRead, said: str) -> None:
    # Scenario: each way of knowing the keys, in the plan's words (the examples).
    assert describe_index(read, NOW) == said
