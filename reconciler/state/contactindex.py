"""The contact index: which keys exist at a destination list or table, kept between plans.

Owns the `contact_index` table (migration 11): one row per index (a destination's list or
profile table and its key field) saying how many keys it holds, when and how it was last read
in full, and the destination's record count then. The keys themselves are stored as a
snapshot's rows are (keys only, through the same bulk paths, so they are kept exactly as safely
as snapshots), under the index's id, which no activation name can take (it starts with `#`):
`attributes_hash` NULL for a key that exists, `absent` for a key checked and not found.

A full read replaces an index; keys checked since are added to it. Index writes do not bump
any activation's serial: a plan does not depend on them being current (it checks what it
needs), so a saved plan is not made stale by another plan's index.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import duckdb
import pyarrow as pa

from reconciler.arrow_streams import arrow_reader
from reconciler.state.backend import Backend, SnapshotHashes
from reconciler.state.records import SNAPSHOT_HASH, SNAPSHOT_KEY
from reconciler.state.schema import utc_aware, utc_naive

ABSENT = "absent"  # the status of a key checked and not found
INDEX_PREFIX = "#contact-index "


def index_id(destination: str, scope: str, key_field: str) -> str:
    """The id of the index of `destination`'s `scope` (e.g. `list CONTACTS`) by `key_field`."""
    return f"{INDEX_PREFIX}{destination}|{scope}|{key_field}"


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and how it was read."""

    index: str
    keys: int  # keys that exist
    absent: int  # keys checked and not found
    read_at: dt.datetime  # the last full read
    read_how: str  # e.g. "full read: 10,000 pages", "daily export profiles_20261101.csv"
    remote_count: int | None  # the destination's record count at the last full read
    updated_at: dt.datetime  # the last write (a full read or keys checked since)

    def older_than(self, max_age: dt.timedelta, now: dt.datetime) -> bool:
        """Whether its last full read is more than `max_age` before `now` (a plan then
        reads the destination in full again)."""
        return now - self.read_at > max_age


_INFO = "SELECT index_id, keys, absent, read_at, read_how, remote_count, updated_at " \
    "FROM contact_index"


def _info(row: tuple[object, ...]) -> IndexInfo:
    index, keys, absent, read_at, how, count, updated = row
    return IndexInfo(str(index), int(str(keys)), int(str(absent)),
                     utc_aware(cast(dt.datetime, read_at)), str(how),
                     None if count is None else int(str(count)),
                     utc_aware(cast(dt.datetime, updated)))


def read_info(backend: Backend, index: str) -> IndexInfo | None:
    rows = backend.query(f"{_INFO} WHERE index_id = ?", [index])
    return _info(rows[0]) if rows else None


def read_infos_of(backend: Backend, destination: str) -> list[IndexInfo]:
    """Every index of `destination` (one per list or table and key field)."""
    prefix = f"{INDEX_PREFIX}{destination}|"
    rows = backend.query(f"{_INFO} WHERE substr(index_id, 1, ?) = ? ORDER BY index_id",
                         [len(prefix), prefix])
    return [_info(row) for row in rows]


def copy_into(backend: Backend, index: str, into: duckdb.DuckDBPyConnection,
              table: str) -> None:
    """Create temp table `table` (member_key, attributes_hash) in `into`: the index's keys,
    `attributes_hash` = `absent` for keys checked and not found."""
    backend.copy_snapshot_into(index, into, table, SnapshotHashes.TEXT)


def _rows(conn: duckdb.DuckDBPyConnection, table: str) -> pa.RecordBatchReader:
    relation = conn.sql(f'SELECT {SNAPSHOT_KEY}, CAST({SNAPSHOT_HASH} AS VARCHAR) '
                        f'AS {SNAPSHOT_HASH} FROM "{table}"')
    return arrow_reader(relation, 100_000)


def write(backend: Backend, info: IndexInfo, conn: duckdb.DuckDBPyConnection, table: str, *,
          full: bool) -> IndexInfo:
    """Store the (member_key, attributes_hash) rows of `conn`'s `table`: the whole index when
    `full` (replacing it), else keys checked since the last full read (added to it); `info`
    says how it was read (its counts are worked out here)."""
    rows = conn.execute(f"SELECT count(*) FILTER (WHERE {SNAPSHOT_HASH} IS NULL), "
                        f"count(*) FILTER (WHERE {SNAPSHOT_HASH} = ?) FROM \"{table}\"",
                        [ABSENT]).fetchall()
    keys, absent = int(rows[0][0] or 0), int(rows[0][1] or 0)
    # One writer of an index at a time (two plans on one PostgreSQL state would otherwise
    # both replace it, and leave it twice).
    with backend.exclusive(info.index):
        if full:
            backend.execute("DELETE FROM snapshots WHERE activation = ?", [info.index])
        else:  # counted in the workspace: the stored ones are known already
            stored = read_info(backend, info.index)
            keys += stored.keys if stored is not None else 0
            absent += stored.absent if stored is not None else 0
        backend.insert_snapshot(info.index, _rows(conn, table))
        backend.execute(
            "INSERT INTO contact_index (index_id, keys, absent, read_at, read_how, "
            "remote_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (index_id) DO UPDATE SET keys = excluded.keys, "
            "absent = excluded.absent, read_at = excluded.read_at, "
            "read_how = excluded.read_how, remote_count = excluded.remote_count, "
            "updated_at = excluded.updated_at",
            [info.index, keys, absent, utc_naive(info.read_at), info.read_how,
             info.remote_count, utc_naive(info.updated_at)])
    return IndexInfo(info.index, keys, absent, info.read_at, info.read_how, info.remote_count,
                     info.updated_at)


def forget(backend: Backend, index: str) -> None:
    """Drop an index (the next plan reads the destination in full)."""
    with backend.transaction():
        backend.execute("DELETE FROM snapshots WHERE activation = ?", [index])
        backend.execute("DELETE FROM contact_index WHERE index_id = ?", [index])
