"""Notices sent once: which one-off messages (e.g. a key about to expire) went out, and when.

Owns the `notices` table (migration 7). A notice is claimed before it is sent: the claim is
one `INSERT … ON CONFLICT DO NOTHING`, so of two runs sharing a store (PostgreSQL: parallel
jobs) exactly one gets it; a claim whose delivery failed is released so a later run tries
again. Notice ids are names and dates the caller makes up, never secrets. Claims do not bump
serials: a plan does not read them.
"""
from __future__ import annotations

import datetime as dt

from reconciler.state.backend import Backend
from reconciler.state.schema import utc_aware, utc_naive


def claim(backend: Backend, notice: str, sent_at: dt.datetime) -> bool:
    """Record `notice` as sent at `sent_at` unless it already is; whether this call did."""
    with backend.transaction():
        # RETURNING gives the row only when it was inserted (both engines): no read-then-write
        # race between two runs.
        rows = backend.query(
            "INSERT INTO notices (notice, sent_at) VALUES (?, ?) "
            "ON CONFLICT (notice) DO NOTHING RETURNING notice",
            [notice, utc_naive(sent_at)])
    return bool(rows)


def release(backend: Backend, notice: str) -> None:
    """Forget a claimed notice (its delivery failed): the next claim of it succeeds."""
    with backend.transaction():
        backend.execute("DELETE FROM notices WHERE notice = ?", [notice])


def read_notices(backend: Backend, prefix: str) -> dict[str, dt.datetime]:
    """The notices sent whose id starts with `prefix`, by id, with when they were sent."""
    # Filtered here rather than with LIKE: ids hold names, whose `_` LIKE would take as a
    # wildcard; the table holds a few rows per destination and year.
    rows = backend.query("SELECT notice, sent_at FROM notices ORDER BY notice")
    return {str(notice): utc_aware(sent_at) for notice, sent_at in rows
            if str(notice).startswith(prefix)}
