"""The diff engine: membership and attribute change sets, computed in SQL inside DuckDB.

Inputs are temp tables of one connection (all keyed by `member_key`):
- `desired`: the valid audience rows with `attributes_hash` (built by `sources/`);
- `contacts`: the desired keys that exist at the destination (the contact index);
- `snapshot`: what was last applied (`member_key`, `attributes_hash`), maybe empty;
- `actual` (optional): the remote list's members, read with --refresh or with no snapshot.

Outputs are change-set tables (`adds`, `removes`, `updates`, `members`) that stay in DuckDB for
apply, and counts for the plan. Python never holds a whole audience here.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from reconciler.masking import mask_value


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
    members = property(lambda self: self._named("members"))  # desired ∩ contacts: to sync
    adds = property(lambda self: self._named("adds"))
    removes = property(lambda self: self._named("removes"))
    updates = property(lambda self: self._named("updates"))


@dataclass(frozen=True)
class DiffResult:
    desired: int
    matched: int
    adds: int
    removes: int
    updates: int
    base_members: int  # what the removals are measured against (snapshot or actual)
    added_outside: int | None  # drift, when both the snapshot and the actual list are known
    removed_outside: int | None
    samples: tuple[str, ...]


def count_rows(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return _scalar(conn, f'SELECT count(*) FROM "{table}"')


def compute_diff(
    conn: duckdb.DuckDBPyConnection,
    tables: DiffTables,
    *,
    has_actual: bool,
    has_snapshot: bool,
    has_fields: bool,
    samples: int = 3,
    mask: bool = True,
) -> DiffResult:
    """Build the change-set tables of one activation and count them.

    Membership changes are measured against the actual remote list when it was read (so
    drift is corrected), else against the snapshot. Attribute updates are the matched rows
    whose hash differs from the snapshot's (every matched row before the first apply).
    """
    t = tables
    base = t.actual if has_actual else t.snapshot
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.members}" AS
        SELECT d.* FROM "{t.desired}" AS d SEMI JOIN "{t.contacts}" AS c USING (member_key)''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.adds}" AS
        SELECT member_key FROM "{t.members}" ANTI JOIN "{base}" USING (member_key)
        ORDER BY member_key''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.removes}" AS
        SELECT DISTINCT member_key FROM "{base}" ANTI JOIN "{t.members}" USING (member_key)
        ORDER BY member_key''')
    update_filter = "TRUE" if has_fields else "FALSE"
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.updates}" AS
        SELECT m.* FROM "{t.members}" AS m LEFT JOIN "{t.snapshot}" AS s USING (member_key)
        WHERE {update_filter} AND s.attributes_hash IS DISTINCT FROM m.attributes_hash
        ORDER BY member_key''')
    added_outside = removed_outside = None
    if has_actual and has_snapshot:
        added_outside = _scalar(conn, f'SELECT count(*) FROM "{t.actual}" '
                                      f'ANTI JOIN "{t.snapshot}" USING (member_key)')
        removed_outside = _scalar(conn, f'SELECT count(*) FROM "{t.snapshot}" '
                                        f'ANTI JOIN "{t.actual}" USING (member_key)')
    sample_rows = conn.execute(
        f'SELECT member_key FROM "{t.adds}" USING SAMPLE reservoir({int(samples)} ROWS) '
        'REPEATABLE (7) ORDER BY member_key').fetchall()
    return DiffResult(
        desired=count_rows(conn, t.desired),
        matched=count_rows(conn, t.members),
        adds=count_rows(conn, t.adds),
        removes=count_rows(conn, t.removes),
        updates=count_rows(conn, t.updates),
        base_members=_scalar(conn, f'SELECT count(DISTINCT member_key) FROM "{base}"'),
        added_outside=added_outside,
        removed_outside=removed_outside,
        samples=tuple(mask_value(row[0]) if mask else str(row[0]) for row in sample_rows),
    )


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall, not fetchone: DuckDB keeps a result that was not read to its end open on the
    # connection, and the next query on it would then fail.
    rows = conn.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0
