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
    # desired ∩ contacts, what to sync: (member_key, attributes_hash), the next snapshot
    members = property(lambda self: self._named("members"))
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
    update_filter = "TRUE" if has_fields else "FALSE"
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.members}" AS
        SELECT d.member_key, d.attributes_hash
        FROM "{t.desired}" AS d SEMI JOIN "{t.contacts}" AS c USING (member_key)''')
    if has_actual:
        _diff_against_actual(conn, t, update_filter)
    else:
        _diff_against_snapshot(conn, t, update_filter)
    added_outside = removed_outside = None
    if has_actual and has_snapshot:
        added_outside = _scalar(conn, f'SELECT count(*) FROM "{t.actual}" '
                                      f'ANTI JOIN "{t.snapshot}" USING (member_key)')
        removed_outside = _scalar(conn, f'SELECT count(*) FROM "{t.snapshot}" '
                                        f'ANTI JOIN "{t.actual}" USING (member_key)')
    sample_rows = conn.execute(
        f'SELECT member_key FROM "{t.adds}" USING SAMPLE reservoir({int(samples)} ROWS) '
        'REPEATABLE (7) ORDER BY member_key').fetchall()
    matched, adds, removes = (count_rows(conn, name) for name in (t.members, t.adds, t.removes))
    if has_actual:
        base_members = _scalar(conn, f'SELECT count(DISTINCT member_key) FROM "{t.actual}"')
    else:
        # Members have unique keys, so the snapshot's distinct keys are the members found in
        # it plus the removes: no second pass over the snapshot to count them.
        base_members = matched - adds + removes
    return DiffResult(
        desired=count_rows(conn, t.desired),
        matched=matched,
        adds=adds,
        removes=removes,
        updates=count_rows(conn, t.updates),
        base_members=base_members,
        added_outside=added_outside,
        removed_outside=removed_outside,
        samples=tuple(mask_value(row[0]) if mask else str(row[0]) for row in sample_rows),
    )


def _diff_against_snapshot(conn: duckdb.DuckDBPyConnection, t: DiffTables,
                           update_filter: str) -> None:
    """Adds, removes and updates from one full join of the members with the snapshot.

    Only the changed rows (a few percent, usually) are kept from the join; the three change
    sets are then cut from them, so the large inputs are scanned and hashed once.
    """
    changes = f"{t.prefix}__changes"
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{changes}" AS
        SELECT m.member_key, s.member_key AS base_key,
               {update_filter} AND s.attributes_hash IS DISTINCT FROM m.attributes_hash AS changed
        FROM "{t.members}" AS m FULL JOIN "{t.snapshot}" AS s ON m.member_key = s.member_key
        WHERE m.member_key IS NULL OR s.member_key IS NULL
           OR ({update_filter} AND s.attributes_hash IS DISTINCT FROM m.attributes_hash)''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.adds}" AS
        SELECT member_key FROM "{changes}"
        WHERE member_key IS NOT NULL AND base_key IS NULL ORDER BY member_key''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.removes}" AS
        SELECT DISTINCT base_key AS member_key FROM "{changes}"
        WHERE member_key IS NULL ORDER BY member_key''')
    _create_updates(conn, t, f'SELECT member_key FROM "{changes}" '
                               'WHERE changed AND member_key IS NOT NULL')
    conn.execute(f'DROP TABLE "{changes}"')


def _diff_against_actual(conn: duckdb.DuckDBPyConnection, t: DiffTables,
                         update_filter: str) -> None:
    """Membership against the list as read (drift corrected), updates against the snapshot."""
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.adds}" AS
        SELECT member_key FROM "{t.members}" ANTI JOIN "{t.actual}" USING (member_key)
        ORDER BY member_key''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.removes}" AS
        SELECT DISTINCT member_key FROM "{t.actual}" ANTI JOIN "{t.members}" USING (member_key)
        ORDER BY member_key''')
    _create_updates(conn, t, f'''
        SELECT m.member_key FROM "{t.members}" AS m LEFT JOIN "{t.snapshot}" AS s USING (member_key)
        WHERE {update_filter} AND s.attributes_hash IS DISTINCT FROM m.attributes_hash''')


def _create_updates(conn: duckdb.DuckDBPyConnection, t: DiffTables, changed_keys: str) -> None:
    """The desired rows (every field) of the members whose attributes changed, by key."""
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.updates}" AS
        SELECT d.* FROM "{t.desired}" AS d SEMI JOIN ({changed_keys}) AS u USING (member_key)
        ORDER BY member_key''')


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall, not fetchone: DuckDB keeps a result that was not read to its end open on the
    # connection, and the next query on it would then fail.
    rows = conn.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0
