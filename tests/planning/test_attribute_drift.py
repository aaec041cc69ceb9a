"""Attribute drift: members' values read at the destination, hashed and compared in the diff."""
from __future__ import annotations

import duckdb
import pytest

from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import load_row_pages
from reconciler.manifests.models import FieldType
from reconciler.planning.attributes import stage_remote_hashes
from reconciler.planning.diff import compute_diff
from reconciler.planning.planner import Refresh
from reconciler.sources import AudienceField
from reconciler.sources.conversion import attributes_hash

T = DiffTables("t")
REMOTE = "t_remote"
DESIRED = [("A", "h1"), ("B", "h2"), ("C", "h3"), ("D", "h4"), ("E", "h5")]
CONTACTS = ["A", "B", "C", "D"]  # E is unmatched


def _workspace(snapshot: list[tuple[str, str | None]], actual: list[str],
               remote: list[tuple[str, str]]) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(f'CREATE TEMP TABLE "{T.desired}" (member_key VARCHAR, CITY VARCHAR, '
                 'attributes_hash VARCHAR)')
    conn.executemany(f'INSERT INTO "{T.desired}" VALUES (?, ?, ?)',
                     [(k, f"city {h}", h) for k, h in DESIRED])
    conn.execute(f'CREATE TEMP TABLE "{T.contacts}" AS SELECT unnest(?::VARCHAR[]) AS member_key',
                 [CONTACTS])
    conn.execute(f'CREATE TEMP TABLE "{T.snapshot}" (member_key VARCHAR, attributes_hash VARCHAR)')
    if snapshot:
        conn.executemany(f'INSERT INTO "{T.snapshot}" VALUES (?, ?)', snapshot)
    conn.execute(f'CREATE TEMP TABLE "{T.actual}" AS SELECT unnest(?::VARCHAR[]) AS member_key',
                 [actual])
    conn.execute(f'CREATE TEMP TABLE "{REMOTE}" (member_key VARCHAR, attributes_hash VARCHAR)')
    if remote:
        conn.executemany(f'INSERT INTO "{REMOTE}" VALUES (?, ?)', remote)
    return conn


def _keys(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in conn.execute(f'SELECT member_key FROM "{table}" '
                                           'ORDER BY member_key').fetchall()]


SNAPSHOT = [("A", "h1"), ("B", "h2"), ("C", "old")]


@pytest.mark.parametrize(("remote", "updates", "outside"), [
    # A as sent; B changed at the destination (the snapshot says it was sent): drift; C
    # changed in the warehouse too: an ordinary update; D is added (no snapshot): sent.
    ([("A", "h1"), ("B", "edited"), ("C", "edited")], ["B", "C", "D"], 1),
    ([("A", "h1"), ("B", "h2"), ("C", "h3")], ["C", "D"], 0),  # the values are as desired
    ([("A", "edited"), ("B", "edited")], ["A", "B", "C", "D"], 2),
    ([("A", "h1"), ("A", "edited"), ("B", "h2")], ["A", "C", "D"], 1),  # A's key read twice
    ([], ["C", "D"], 0),  # nothing read (an empty segment's values)
])
def test_values_changed_at_the_destination_are_updated_and_counted_as_drift(
        remote: list[tuple[str, str]], updates: list[str], outside: int) -> None:
    # Scenario: with the members' values read, every member whose values differ there from
    # the desired ones is updated; those the snapshot alone would have left are drift.
    conn = _workspace(SNAPSHOT, ["A", "B", "C"], remote)
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=True,
                          remote=REMOTE)
    assert (_keys(conn, T.updates), result.updates, result.changed_outside) == (
        updates, len(updates), outside)
    assert (result.adds, result.removes) == (1, 0)


def test_without_the_values_read_there_is_no_attribute_drift() -> None:
    # Scenario: --refresh-members (no `remote`): updates follow the snapshot; drift unknown.
    conn = _workspace(SNAPSHOT, ["A", "B", "C"], [("B", "edited")])
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=True)
    assert (_keys(conn, T.updates), result.changed_outside) == (["C", "D"], None)


def test_without_mapped_fields_values_read_change_nothing() -> None:
    # Scenario: an activation without fields never updates, whatever was read.
    conn = _workspace(SNAPSHOT, ["A", "B", "C"], [("B", "edited")])
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=False,
                          remote=REMOTE)
    assert (result.updates, result.changed_outside) == (0, None)


def test_a_held_member_is_not_updated_whatever_its_values_there() -> None:
    # Scenario: B's key is held (on two audience rows): it stays exactly as it is, even
    # though its values at the destination differ.
    conn = _workspace(SNAPSHOT, ["A", "B", "C"], [("A", "h1"), ("B", "edited")])
    conn.execute(f'DELETE FROM "{T.desired}" WHERE member_key = \'B\'')
    conn.execute('CREATE TEMP TABLE "t_held" AS SELECT \'B\' AS member_key')
    result = compute_diff(conn, T, has_actual=True, has_snapshot=True, has_fields=True,
                          remote=REMOTE, held="t_held")
    assert (_keys(conn, T.updates), result.changed_outside, result.held) == (["C", "D"], 0, 1)


FIELDS = (AudienceField("first_name", "FIRSTNAME", FieldType.STRING),
          AudienceField("ltv", "LTV", FieldType.DECIMAL),
          AudienceField("orders", "ORDERS", FieldType.INTEGER),
          AudienceField("optin", "OPTIN", FieldType.BOOLEAN),
          AudienceField("born", "BORN", FieldType.DATE),
          AudienceField("seen", "SEEN", FieldType.TIMESTAMP),
          AudienceField("city", "CITY", None))
AUDIENCE_ROW = ("'Zoé' AS FIRSTNAME, 1232.64 AS LTV, 3 AS ORDERS, TRUE AS OPTIN, "
                "DATE '2020-01-02' AS BORN, TIMESTAMP '2020-01-02 03:04:05' AS SEEN, "
                "NULL AS CITY")


@pytest.mark.parametrize(("row", "same"), [
    (["K1", "Zoé", 1232.64, 3, True, "2020-01-02", "2020-01-02T03:04:05", None], True),
    # as an API may write them: 3.0, a date with its time, an instant in UTC with its offset
    (["K1", "Zoé", 1232.64, 3.0, "1", "2020-01-02T00:00:00", "2020-01-02T05:04:05+02:00",
      None], True),
    (["K1", "Zoe", 1232.64, 3, True, "2020-01-02", "2020-01-02T03:04:05", None], False),
    (["K1", "Zoé", 1232.65, 3, True, "2020-01-02", "2020-01-02T03:04:05", None], False),
    (["K1", "Zoé", 1232.64, 3, False, "2020-01-02", "2020-01-02T03:04:05", None], False),
    (["K1", "Zoé", 1232.64, 3, True, "2020-01-02", "2020-01-02T03:04:05", "Gent"], False),
])
def test_remote_values_hash_as_the_audience_values_they_equal(row: list[object],
                                                              same: bool) -> None:
    # Scenario: values as the API returns them (typed JSON) hash like the audience's values
    # when they are equal, and otherwise differ.
    conn = duckdb.connect()
    desired = conn.execute(f"SELECT {attributes_hash(FIELDS)} FROM (SELECT {AUDIENCE_ROW})"
                           ).fetchall()[0][0]
    names = [f.destination for f in FIELDS]
    assert load_row_pages(conn, "keys", "values", names, [[row]]) == 1
    stage_remote_hashes(conn, "values", "hashes", FIELDS)
    assert conn.execute('SELECT member_key FROM "keys"').fetchall() == [("K1",)]
    remote = conn.execute('SELECT attributes_hash FROM "hashes"').fetchall()[0][0]
    assert (remote == desired) is same


@pytest.mark.parametrize(("refresh", "members_only", "expected"), [
    (False, False, Refresh.NONE), (True, False, Refresh.ATTRIBUTES),
    (False, True, Refresh.MEMBERS), (True, True, Refresh.MEMBERS),
])
def test_refresh_options_choose_what_is_read(refresh: bool, members_only: bool,
                                             expected: Refresh) -> None:
    # Scenario: --refresh reads members and values, --refresh-members (which wins) members.
    assert Refresh.of(refresh, members_only) is expected
