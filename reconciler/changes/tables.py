"""The change-set tables of one activation, as the planner leaves them in DuckDB for apply."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class DiffTables:
    """The tables of one activation's diff, all named from one prefix."""

    prefix: str

    def _named(self, role: str) -> str:
        return f"{self.prefix}_{role}"

    desired = property(lambda self: self._named("desired"))
    contacts = property(lambda self: self._named("contacts"))
    snapshot = property(lambda self: self._named("snapshot"))
    actual = property(lambda self: self._named("actual"))
    # keys on several audience rows whose members stay as they are (duplicateKeys: keep)
    held = property(lambda self: self._named("held"))
    # desired ∩ contacts, what to sync: (member_key, attributes_hash), the next snapshot
    members = property(lambda self: self._named("members"))
    # desired ⋉ contacts ⟗ snapshot, one row per key with a change code (see planning/diff.py)
    joined = property(lambda self: self._named("joined"))
    # the members whose attributes must be sent: (member_key, attributes_hash)
    changed = property(lambda self: self._named("changed"))
    adds = property(lambda self: self._named("adds"))
    removes = property(lambda self: self._named("removes"))
    updates = property(lambda self: self._named("updates"))


def count_rows(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    rows = conn.execute(f'SELECT count(*) FROM "{table}"').fetchall()
    return int(rows[0][0])
