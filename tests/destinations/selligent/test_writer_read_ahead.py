"""The Selligent writer reads the next step's first batch while the current one finishes."""
from __future__ import annotations

import duckdb

from reconciler.destinations.selligent.writer import ReadAhead


def _conn() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("CREATE TABLE adds AS SELECT 'A' || i AS member_key FROM range(5) t(i)")
    conn.execute("CREATE TABLE removes (member_key VARCHAR)")
    conn.execute("CREATE TABLE updates AS SELECT 'U' || i AS member_key, i AS LTV "
                 "FROM range(7) t(i)")
    return conn


def test_read_ahead_skips_empty_steps_and_yields_the_same_batches() -> None:
    # Scenario: after the adds, the removes are empty, so the updates' first batch is read
    # ahead; each step then gets exactly the batches a direct read gives, in order.
    conn, ahead = _conn(), ReadAhead(batch_rows=3)
    assert [len(b) for b in ahead.batches(conn, "adds", ["member_key"])] == [3, 2]
    ahead.read(conn, [("removes", ["member_key"]), ("updates", ["member_key", "LTV"])])
    assert list(ahead.batches(conn, "removes", ["member_key"])) == []
    read_ahead = list(ahead.batches(conn, "updates", ["member_key", "LTV"]))
    direct = list(ReadAhead(batch_rows=3).batches(conn, "updates", ["member_key", "LTV"]))
    assert read_ahead == direct and [len(b) for b in direct] == [3, 3, 1]


def test_cleared_read_ahead_is_read_again() -> None:
    # Scenario: an apply stopped after reading ahead; the next one reads the step afresh.
    conn, ahead = _conn(), ReadAhead(batch_rows=3)
    ahead.read(conn, [("updates", ["member_key", "LTV"])])
    ahead.clear()
    assert sum(len(b) for b in ahead.batches(conn, "updates", ["member_key", "LTV"])) == 7
