"""The contact index kept in the state store (contactindex.py), on both backends."""
from __future__ import annotations

import datetime as dt

import duckdb

from reconciler.state import ABSENT, IndexInfo, index_id
from tests.state.conftest import StateTarget

READ_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
INDEX = index_id("selligent-prod", "list CONTACTS", "EXTERNAL_ID")


def _rows(conn: duckdb.DuckDBPyConnection, table: str,
          rows: list[tuple[str, str | None]]) -> None:
    conn.execute(f'CREATE OR REPLACE TABLE "{table}" (member_key VARCHAR, attributes_hash VARCHAR)')
    conn.executemany(f'INSERT INTO "{table}" VALUES (?, ?)', rows)


def _keys(state: StateTarget) -> set[tuple[str, str | None]]:
    conn = duckdb.connect()
    with state.reader() as reader:
        reader.copy_contact_index_into(INDEX, conn, "index")
    return set(conn.execute('SELECT member_key, attributes_hash FROM "index"').fetchall())


def test_a_full_read_replaces_the_index_and_checked_keys_are_added(state: StateTarget) -> None:
    # Scenario: a full read of 3 keys is stored, then 1 new key found and 1 checked absent are
    # added; a second full read replaces everything; the counts and read time follow.
    conn = duckdb.connect()
    info = IndexInfo(INDEX, 0, 0, READ_AT, "full read: 1 page", 3, READ_AT)
    with state.writer() as store:
        assert store.contact_index(INDEX) is None
        _rows(conn, "full", [("a", None), ("b", None), ("c", None)])
        stored = store.write_contact_index(info, conn, "full", full=True)
        assert (stored.keys, stored.absent) == (3, 0)
        _rows(conn, "checked", [("d", None), ("x", ABSENT)])
        later = READ_AT + dt.timedelta(hours=2)
        store.write_contact_index(
            IndexInfo(INDEX, 0, 0, READ_AT, info.read_how, 3, later), conn, "checked", full=False)
    with state.reader() as reader:
        found = reader.contact_index(INDEX)
    assert found is not None
    assert (found.keys, found.absent, found.remote_count) == (4, 1, 3)
    assert found.read_at == READ_AT and found.updated_at == later
    assert _keys(state) == {("a", None), ("b", None), ("c", None), ("d", None), ("x", ABSENT)}
    with state.writer() as store:
        _rows(conn, "again", [("b", None)])
        store.write_contact_index(info, conn, "again", full=True)
    assert _keys(state) == {("b", None)}


def test_an_index_is_no_activation(state: StateTarget) -> None:
    # Scenario: a stored index lists no activation and its keys are not any snapshot's.
    conn = duckdb.connect()
    _rows(conn, "full", [("a", None)])
    with state.writer() as store:
        store.write_contact_index(IndexInfo(INDEX, 0, 0, READ_AT, "full read", 1, READ_AT),
                                  conn, "full", full=True)
        assert store.activations() == ()
        assert store.snapshot_info(INDEX) is None
