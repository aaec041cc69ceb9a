"""The diff engine on small tables: membership against the snapshot or the list as read."""
from __future__ import annotations

import duckdb
import pytest

from reconciler.changes.tables import DiffTables
from reconciler.planning.diff import compute_diff

T = DiffTables("t")


def _workspace(desired: list[tuple[str, str]], contacts: list[str],
               snapshot: list[tuple[str, str | None]],
               actual: list[str] | None = None) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(f'CREATE TEMP TABLE "{T.desired}" (member_key VARCHAR, CITY VARCHAR, '
                 'attributes_hash VARCHAR)')
    conn.executemany(f'INSERT INTO "{T.desired}" VALUES (?, ?, ?)',
                     [(k, f"city {h}", h) for k, h in desired])
    conn.execute(f'CREATE TEMP TABLE "{T.contacts}" AS SELECT unnest(?::VARCHAR[]) AS member_key',
                 [contacts])
    conn.execute(f'CREATE TEMP TABLE "{T.snapshot}" (member_key VARCHAR, attributes_hash VARCHAR)')
    if snapshot:
        conn.executemany(f'INSERT INTO "{T.snapshot}" VALUES (?, ?)', snapshot)
    if actual is not None:
        conn.execute(f'CREATE TEMP TABLE "{T.actual}" AS '
                     'SELECT unnest(?::VARCHAR[]) AS member_key', [actual])
    return conn


def _keys(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in conn.execute(f'SELECT member_key FROM "{table}"').fetchall()]


DESIRED = [("A", "h1"), ("B", "h2"), ("C", "h3"), ("D", "h4"), ("E", "h5")]
CONTACTS = ["A", "B", "C", "D"]  # E is unmatched


@pytest.mark.parametrize(("snapshot", "fields", "adds", "removes", "updates", "base"), [
    # A kept, B changed, C new, D's hash unknown (NULL), X left the audience
    ([("A", "h1"), ("B", "old"), ("D", None), ("X", "h9")], True, ["C"], ["X"],
     ["B", "C", "D"], 4),
    ([("A", "h1"), ("B", "old"), ("D", None), ("X", "h9")], False, ["C"], ["X"], [], 4),
    ([], True, ["A", "B", "C", "D"], [], ["A", "B", "C", "D"], 0),  # before the first apply
    ([("A", "h1"), ("X", "h9"), ("X", "h8")], True, ["B", "C", "D"], ["X"],
     ["B", "C", "D"], 2),  # a key twice in the snapshot is removed once
])
def test_changes_against_the_snapshot(snapshot: list[tuple[str, str | None]], fields: bool,
                                      adds: list[str], removes: list[str],
                                      updates: list[str], base: int) -> None:
    # Scenario: each case's members, snapshot and mapped fields give exact change sets.
    conn = _workspace(DESIRED, CONTACTS, snapshot)
    result = compute_diff(conn, T, has_actual=False, has_snapshot=bool(snapshot),
                          has_fields=fields)
    assert (_keys(conn, T.adds), _keys(conn, T.removes), _keys(conn, T.updates)) == (
        adds, removes, updates)
    assert (result.desired, result.matched, result.base_members) == (5, 4, base)
    assert (result.adds, result.removes, result.updates) == (len(adds), len(removes),
                                                           len(updates))
    assert [c[0] for c in conn.execute(f'SELECT * FROM "{T.updates}"').description] == [
        "member_key", "CITY", "attributes_hash"]
    assert sorted(_keys(conn, T.members)) == CONTACTS


def test_members_whose_contact_is_gone_are_not_removed() -> None:
    # Scenario: the contact index is complete (every key at the destination): X left the
    # audience and Y's contact was deleted there: X is removed; Y, no member of anything any
    # more, is not (a removal would write to a contact that does not exist), yet counts in the
    # list's base and leaves the next snapshot.
    conn = _workspace(DESIRED, [*CONTACTS, "X", "Q"], [("A", "h1"), ("X", "h9"), ("Y", "h8")])
    result = compute_diff(conn, T, has_actual=False, has_snapshot=True, has_fields=False,
                          complete_contacts=True)
    assert (_keys(conn, T.removes), result.removes, result.base_members) == (["X"], 1, 3)
    assert sorted(_keys(conn, T.members)) == CONTACTS


def test_changes_against_the_list_as_read_show_drift() -> None:
    # Scenario: with --refresh, membership follows the list read; drift is counted apart.
    conn = _workspace(DESIRED, CONTACTS, [("A", "h1"), ("B", "h2"), ("X", "h9")],
                      actual=["A", "Y"])
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=True)
    assert (_keys(conn, T.adds), _keys(conn, T.removes), _keys(conn, T.updates)) == (
        ["B", "C", "D"], ["Y"], ["C", "D"])
    # Y was added outside (apply removes it); B was removed outside (apply adds it back); X
    # left the list and the audience: nothing to undo, so no drift line.
    assert (result.base_members, result.added_outside, result.removed_outside) == (2, 1, 1)


def test_desired_members_missing_from_the_snapshot_are_not_outside_drift() -> None:
    # Scenario: an apply killed midway added C and D (confirmed, never snapshotted) and took
    # X out; the resuming plan reads the list: none of those is reported as made outside.
    conn = _workspace(DESIRED, CONTACTS, [("A", "h1"), ("B", "h2"), ("X", "h9")],
                      actual=["A", "B", "C", "D"])
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=True)
    assert (_keys(conn, T.adds), _keys(conn, T.removes)) == ([], [])
    assert (result.added_outside, result.removed_outside) == (0, 0)


def test_rows_that_changed_while_planning_are_sent_next_time() -> None:
    # Scenario: the source's values of member B changed after the audience was read, so the
    # filler leaves B out: B is not updated now, and its hash is forgotten (NULL) so the
    # snapshot written after apply makes the next plan send it.
    conn = _workspace(DESIRED, CONTACTS, [("A", "h1"), ("B", "old"), ("C", "old")])

    def fill(keys: str, updates: str) -> None:
        conn.execute(f'CREATE TEMP TABLE "{updates}" AS SELECT d.* FROM "{T.desired}" AS d '
                     f'SEMI JOIN "{keys}" USING (member_key) WHERE member_key <> \'B\'')

    result = compute_diff(conn, T, has_actual=False, has_snapshot=True, has_fields=True,
                          fill_updates=fill)
    assert (_keys(conn, T.updates), result.updates, result.unsettled) == (["C", "D"], 2, 1)
    assert conn.execute(f'SELECT member_key, attributes_hash FROM "{T.members}" '
                        'ORDER BY 1').fetchall() == [
        ("A", "h1"), ("B", None), ("C", "h3"), ("D", "h4")]


def _hold(conn: duckdb.DuckDBPyConnection, keys: list[str]) -> str:
    conn.execute(f'CREATE TEMP TABLE "{T.held}" AS SELECT unnest(?::VARCHAR[]) AS member_key',
                 [keys])
    return T.held


# H1 and H2 are on two rows each of the audience (so not in `desired`); H1 was synced with hash
# h7, H2 never was. C, the only other change, is new.
HELD_SNAPSHOT = [("A", "h1"), ("B", "h2"), ("D", "h4"), ("H1", "h7")]


def test_held_keys_keep_their_members_as_they_are_against_the_snapshot() -> None:
    # Scenario: duplicateKeys keep: H1, a member, is neither removed nor updated and stays in
    # the next snapshot with its old hash; H2, not a member, is not added.
    conn = _workspace(DESIRED, [*CONTACTS, "H1", "H2"], HELD_SNAPSHOT)
    result = compute_diff(conn, T, has_actual=False, has_snapshot=True, has_fields=True,
                          held=_hold(conn, ["H1", "H2"]))
    assert (_keys(conn, T.adds), _keys(conn, T.removes), _keys(conn, T.updates)) == (
        ["C"], [], ["C"])
    assert (result.matched, result.held, result.base_members) == (4, 1, 4)
    assert conn.execute(f'SELECT member_key, attributes_hash FROM "{T.members}" '
                        'ORDER BY 1').fetchall() == [
        ("A", "h1"), ("B", "h2"), ("C", "h3"), ("D", "h4"), ("H1", "h7")]


def test_without_held_keys_a_duplicated_member_would_be_removed() -> None:
    # Scenario: the same audience with nothing held (what happened before duplicateKeys):
    # H1 left `desired`, so it is removed.
    conn = _workspace(DESIRED, [*CONTACTS, "H1", "H2"], HELD_SNAPSHOT)
    result = compute_diff(conn, T, has_actual=False, has_snapshot=True, has_fields=True)
    assert (_keys(conn, T.removes), result.held) == (["H1"], 0)


def test_held_keys_keep_their_members_as_they_are_against_the_list_as_read() -> None:
    # Scenario: with --refresh, H1 (in the list and the snapshot) and H3 (in the list only,
    # e.g. added by an apply killed before its snapshot) stay; H2 is not added.
    conn = _workspace(DESIRED, [*CONTACTS, "H1", "H2", "H3"], HELD_SNAPSHOT,
                      actual=["A", "B", "D", "H1", "H3"])
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=True,
                          held=_hold(conn, ["H1", "H2", "H3"]))
    assert (_keys(conn, T.adds), _keys(conn, T.removes), _keys(conn, T.updates)) == (
        ["C"], [], ["C"])
    assert (result.matched, result.held, result.base_members) == (4, 2, 5)
    assert conn.execute(f'SELECT member_key, attributes_hash FROM "{T.members}" '
                        'ORDER BY 1').fetchall() == [
        ("A", "h1"), ("B", "h2"), ("C", "h3"), ("D", "h4"), ("H1", "h7"), ("H3", None)]
