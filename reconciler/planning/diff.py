"""The diff engine: membership and attribute change sets, computed in SQL inside DuckDB.

Inputs are temp tables of one connection (all keyed by `member_key`):
- `desired`: the valid audience rows' keys with `attributes_hash` (built by `sources/`);
- `contacts`: keys that exist at the destination (the contact index; maybe more than the
  desired ones, maybe twice);
- `snapshot`: what was last applied (`member_key`, `attributes_hash`), maybe empty;
- `actual` (optional): the remote list's members, read with --refresh or with no snapshot;
- `remote` (optional, with `actual`): the members' hashes of their current values at the
  destination (`member_key`, `attributes_hash`; see attributes.py), read with --refresh: a
  member whose values there differ from the desired ones is updated even when the snapshot
  says they were sent (attribute drift);
- `held` (optional): keys left out of `desired` whose members stay exactly as they are
  (a key on several audience rows, `duplicateKeys: keep`): a held member of the list (or,
  without `actual`, of the snapshot) stays in `members` with the snapshot's hash, so it is
  neither removed nor updated; a held key that is not a member is not added.

Outputs are change-set tables (`adds`, `removes`, `updates`, `members`) that stay in DuckDB for
apply, and counts for the plan. The field values of `updates` come from an `UpdateFiller` (the
planner reads them again from the source, for those keys only). Python never holds a whole
audience here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from reconciler.changes.tables import DiffTables, count_rows
from reconciler.masking import mask_value

# The change codes of `joined` rows.
_KEPT, _ADDED, _CHANGED, _REMOVED, _HELD = 0, 1, 2, 3, 4


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
    unsettled: int = 0
    """Members whose values changed in the source while planning: not sent this time, and
    their hash forgotten so the next plan sends them."""
    held: int = 0
    """Members kept as they are because their key is held (not counted in `matched`)."""
    changed_outside: int | None = None
    """Members whose values were changed at the destination since they were sent (only the
    remote read shows them): updated again. None when the values were not read."""


UpdateFiller = Callable[[str, str], None]
"""`fill(keys, updates)`: create temp table `updates` (member_key, the mapped fields,
attributes_hash) for the rows of table `keys` (member_key, attributes_hash) whose values still
have that hash, one row per key, in key order."""


def compute_diff(
    conn: duckdb.DuckDBPyConnection,
    tables: DiffTables,
    *,
    has_actual: bool,
    has_snapshot: bool,
    has_fields: bool,
    samples: int = 3,
    mask: bool = True,
    fill_updates: UpdateFiller | None = None,
    held: str | None = None,
    remote: str | None = None,
    complete_contacts: bool = False,
) -> DiffResult:
    """Build the change-set tables of one activation and count them.

    Membership changes are measured against the actual remote list when it was read (so
    drift is corrected), else against the snapshot. Attribute updates are the matched rows
    whose hash differs from the snapshot's (every matched row before the first apply) or
    from `remote`'s; their values come from `fill_updates` (by default from `desired`, when
    it holds the fields). `held`: the held keys' table, if any. `complete_contacts`: the
    contacts table holds every key at the destination, so a snapshot member missing from it
    is gone there and is not removed (no write to a contact that does not exist).
    """
    t = tables
    update_filter = "TRUE" if has_fields else "FALSE"
    _drop_relation(conn, t.members)  # a table or a view, from an earlier plan of it
    if has_actual:
        conn.execute(f'CREATE TEMP TABLE "{t.members}" AS {_matched(t)}')
        held_members = _hold_actual_members(conn, t, held) if held else 0
        _diff_against_actual(conn, t, update_filter, remote if has_fields else None, held)
    else:
        _diff_against_snapshot(conn, t, update_filter, held, complete_contacts)
        held_members = _held_in_joined(conn, t) if held else 0
    changed_outside = _changed_outside(conn, t) if has_actual and remote and has_fields else None
    (fill_updates or _updates_from_desired(conn, t))(t.changed, t.updates)
    unsettled = _settle_updates(conn, t, t.members if has_actual else t.joined)
    added_outside, removed_outside = (_outside_changes(conn, t) if has_actual and has_snapshot
                                      else (None, None))
    sample_rows = conn.execute(
        f'SELECT member_key FROM "{t.adds}" USING SAMPLE reservoir({int(samples)} ROWS) '
        'REPEATABLE (7) ORDER BY member_key').fetchall()
    listed, adds, removes = (count_rows(conn, name) for name in (t.members, t.adds, t.removes))
    base_members = _base_members(conn, t, has_actual, listed - adds)
    return DiffResult(
        desired=count_rows(conn, t.desired),
        matched=listed - held_members,
        adds=adds,
        removes=removes,
        updates=count_rows(conn, t.updates),
        base_members=base_members,
        added_outside=added_outside,
        removed_outside=removed_outside,
        samples=tuple(mask_value(row[0]) if mask else str(row[0]) for row in sample_rows),
        unsettled=unsettled,
        held=held_members,
        changed_outside=changed_outside,
    )


def _outside_changes(conn: duckdb.DuckDBPyConnection, t: DiffTables) -> tuple[int, int]:
    """Members added outside this tool that apply removes (in the list, not in the snapshot,
    not in the audience), and members removed outside that apply adds back (in the snapshot
    and the audience, not in the list). A difference apply leaves alone is not drift to act
    on: a desired member found in the list but not in the snapshot is most often the tool's
    own write that no snapshot recorded yet (an apply killed midway)."""
    added = _scalar(conn, f'SELECT count(*) FROM (SELECT DISTINCT member_key FROM "{t.actual}") '
                          f'ANTI JOIN "{t.snapshot}" USING (member_key) '
                          f'ANTI JOIN "{t.members}" USING (member_key)')
    removed = _scalar(conn, f'SELECT count(*) FROM "{t.snapshot}" '
                            f'ANTI JOIN "{t.actual}" USING (member_key) '
                            f'SEMI JOIN "{t.members}" USING (member_key)')
    return added, removed


def _held_in_joined(conn: duckdb.DuckDBPyConnection, t: DiffTables) -> int:
    return _scalar(conn, f'SELECT count(*) FROM "{t.joined}" WHERE change = {_HELD}')


def _changed_outside(conn: duckdb.DuckDBPyConnection, t: DiffTables) -> int:
    """The members updated only because their values at the destination differ."""
    return _scalar(conn, f'SELECT count(*) FROM "{t.changed}" WHERE outside')


def _base_members(conn: duckdb.DuckDBPyConnection, t: DiffTables, has_actual: bool,
                  kept: int) -> int:
    """The list's members before this change: as read, or the snapshot's (members have
    unique keys, so its distinct keys are the `kept` members plus the removed ones, those
    whose contact is gone included)."""
    if has_actual:
        return _scalar(conn, f'SELECT count(DISTINCT member_key) FROM "{t.actual}"')
    return kept + _scalar(conn, f'SELECT count(DISTINCT removed_key) FROM "{t.joined}" '
                                f'WHERE change = {_REMOVED}')


def left_behind(conn: duckdb.DuckDBPyConnection, t: DiffTables) -> int:
    """Members of the snapshot that are not members now: those a replaced list, once
    deleted, takes with it (after `compute_diff`)."""
    return _scalar(conn, f'SELECT count(*) FROM "{t.snapshot}" '
                         f'ANTI JOIN "{t.members}" USING (member_key)')


def _matched(t: DiffTables) -> str:
    """The desired rows whose key exists at the destination: the members to sync."""
    return (f'SELECT d.member_key, d.attributes_hash FROM "{t.desired}" AS d '
            f'SEMI JOIN "{t.contacts}" AS c USING (member_key)')


def _diff_against_snapshot(conn: duckdb.DuckDBPyConnection, t: DiffTables,
                           update_filter: str, held: str | None = None,
                           complete_contacts: bool = False) -> None:
    """Members, adds, removes and updates from one pass: desired ⋉ contacts ⟗ snapshot.

    The join's rows are kept once, narrow (the member's key and hash, a change code, the key
    of a removed member); `members` is a view of them and the three change sets are cut from
    them, so each large input is scanned and hashed once. Snapshot keys are unique (a
    snapshot is written from `members`); a removed key found twice is removed once. A held
    snapshot member (never in `desired`) stays, with the snapshot's hash.
    """
    h = "h.member_key" if held else "NULL"
    hold = f'LEFT JOIN "{held}" AS h ON h.member_key = s.member_key' if held else ""
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.joined}" AS
        SELECT coalesce(m.member_key, {h}) AS member_key,
               CASE WHEN {h} IS NULL THEN m.attributes_hash
                    ELSE s.attributes_hash END AS attributes_hash,
               CASE WHEN m.member_key IS NULL AND {h} IS NULL THEN s.member_key END
                    AS removed_key,
               CASE WHEN {h} IS NOT NULL THEN {_HELD}
                    WHEN m.member_key IS NULL THEN {_REMOVED}
                    WHEN s.member_key IS NULL THEN {_ADDED}
                    WHEN {update_filter}
                         AND s.attributes_hash IS DISTINCT FROM m.attributes_hash THEN {_CHANGED}
                    ELSE {_KEPT} END AS change
        FROM ({_matched(t)}) AS m
        FULL JOIN "{t.snapshot}" AS s ON m.member_key = s.member_key
        {hold}''')
    conn.execute(f'''
        CREATE TEMP VIEW "{t.members}" AS
        SELECT member_key, attributes_hash FROM "{t.joined}" WHERE change <> {_REMOVED}''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.adds}" AS
        SELECT member_key FROM "{t.joined}" WHERE change = {_ADDED} ORDER BY member_key''')
    # A member whose contact is gone at the destination (not in a complete contact index) is
    # no member there any more: removing it would be a write to a contact that does not exist.
    existing = (f'AND removed_key IN (SELECT member_key FROM "{t.contacts}")'
                if complete_contacts else "")
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.removes}" AS
        SELECT DISTINCT removed_key AS member_key FROM "{t.joined}"
        WHERE change = {_REMOVED} {existing} ORDER BY member_key''')
    # Every member whose hash differs from the snapshot's, added ones included (before a
    # member's first apply its attributes were never sent).
    _create_changed(conn, t, f'''
        SELECT member_key, attributes_hash FROM "{t.joined}"
        WHERE change = {_CHANGED} OR ({update_filter} AND change = {_ADDED})''')


def _hold_actual_members(conn: duckdb.DuckDBPyConnection, t: DiffTables, held: str) -> int:
    """Add the held keys found in the list as read to `members`, with the snapshot's hash (or
    none): they are then neither added, removed nor updated. Their count."""
    conn.execute(f'''
        INSERT INTO "{t.members}"
        SELECT h.member_key, s.attributes_hash FROM "{held}" AS h
        SEMI JOIN "{t.actual}" AS a USING (member_key)
        LEFT JOIN "{t.snapshot}" AS s USING (member_key)''')
    return _scalar(conn, f'SELECT count(*) FROM "{held}" SEMI JOIN "{t.actual}" '
                         'USING (member_key)')


def _diff_against_actual(conn: duckdb.DuckDBPyConnection, t: DiffTables,
                         update_filter: str, remote: str | None = None,
                         held: str | None = None) -> None:
    """Membership against the list as read (drift corrected), updates against the snapshot
    and, when the members' values were read (`remote`), against those too: a member whose
    values at the destination differ from the desired ones is `outside` when the snapshot
    alone would not have updated it. Held members are never updated."""
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.adds}" AS
        SELECT member_key FROM "{t.members}" ANTI JOIN "{t.actual}" USING (member_key)
        ORDER BY member_key''')
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{t.removes}" AS
        SELECT DISTINCT member_key FROM "{t.actual}" ANTI JOIN "{t.members}" USING (member_key)
        ORDER BY member_key''')
    by_snapshot = "s.attributes_hash IS DISTINCT FROM m.attributes_hash"
    if remote is None:
        _create_changed(conn, t, f'''
            SELECT m.member_key, m.attributes_hash
            FROM "{t.members}" AS m LEFT JOIN "{t.snapshot}" AS s USING (member_key)
            WHERE {update_filter} AND {by_snapshot}''')
        return
    keep = f'ANTI JOIN "{held}" AS h ON h.member_key = m.member_key' if held else ""
    # A key read twice (two records of one contact key) differs if either record does.
    differs = (f'EXISTS (SELECT 1 FROM "{remote}" AS r WHERE r.member_key = m.member_key '
               "AND r.attributes_hash IS DISTINCT FROM m.attributes_hash)")
    _create_changed(conn, t, f'''
        SELECT member_key, attributes_hash, NOT by_snapshot AS outside FROM (
            SELECT m.member_key, m.attributes_hash, {by_snapshot} AS by_snapshot,
                   {differs} AS by_remote
            FROM "{t.members}" AS m LEFT JOIN "{t.snapshot}" AS s USING (member_key) {keep})
        WHERE {update_filter} AND (by_snapshot OR by_remote)''')


def _create_changed(conn: duckdb.DuckDBPyConnection, t: DiffTables, rows: str) -> None:
    conn.execute(f'CREATE OR REPLACE TEMP TABLE "{t.changed}" AS {rows}')


def _updates_from_desired(conn: duckdb.DuckDBPyConnection, t: DiffTables) -> UpdateFiller:
    """The default filler: the rows of `desired` itself (when it holds the field values)."""
    def fill(keys: str, updates: str) -> None:
        conn.execute(f'''
            CREATE OR REPLACE TEMP TABLE "{updates}" AS
            SELECT d.* FROM "{t.desired}" AS d SEMI JOIN "{keys}" AS u USING (member_key)
            ORDER BY member_key''')
    return fill


def _settle_updates(conn: duckdb.DuckDBPyConnection, t: DiffTables, members: str) -> int:
    """Forget the hash of the members the filler left out (their values changed in the source
    since they were read): the snapshot then makes the next plan send them. Their count."""
    missing = f'SELECT member_key FROM "{t.changed}" ANTI JOIN "{t.updates}" USING (member_key)'
    unsettled = _scalar(conn, f"SELECT count(*) FROM ({missing})")
    if unsettled:
        conn.execute(f'UPDATE "{members}" SET attributes_hash = NULL '
                     f"WHERE member_key IN ({missing})")
    return unsettled


def _drop_relation(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    kinds = conn.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $1 AND temporary "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $1 AND temporary",
        [name]).fetchall()
    for (kind,) in kinds:
        conn.execute(f'DROP {kind} "{name}"')


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall, not fetchone: DuckDB keeps a result that was not read to its end open on the
    # connection, and the next query on it would then fail.
    rows = conn.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0
