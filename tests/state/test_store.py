"""The state store on both backends: ids, snapshots, serials, runs, migrations."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pytest

from reconciler.state import (
    LATEST_VERSION,
    RemoteKind,
    RunStatus,
    StaleStateError,
    StateError,
    StateSchemaError,
)
from tests.state.conftest import StateTarget

T0 = dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC)


def _batch(keys: list[str], hashes: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch(
        [pa.array(keys, pa.string()), pa.array(hashes, pa.string())],
        names=["member_key", "attributes_hash"],
    )


def _snapshot(reader: pa.RecordBatchReader) -> dict[str, str | None]:
    table = reader.read_all()
    return dict(zip(table.column("member_key").to_pylist(),
                    table.column("attributes_hash").to_pylist(), strict=True))


def test_a_store_never_written_reads_empty_and_is_not_created(state: StateTarget) -> None:
    # Scenario: the planner reads state before any apply; nothing is created by reading.
    with state.reader() as reader:
        assert reader.schema_version() == 0 and reader.activations() == ()
        assert reader.serial("vip") == 0 and reader.snapshot_info("vip") is None
        assert reader.remote_ids("vip") == () and reader.runs("vip") == ()
        assert _snapshot(reader.stream_snapshot("vip")) == {}
        workspace = duckdb.connect()
        reader.copy_snapshot_into("vip", workspace, "snap")
        assert workspace.execute("SELECT count(*) FROM snap").fetchone() == (0,)
    if not state.location.startswith("postgresql"):
        assert not Path(state.location).exists()


def test_remote_ids_by_kind_and_name_bump_the_serial(state: StateTarget) -> None:
    # Scenario: apply records a segment id and field ids, then renames one; serial counts writes.
    with state.writer() as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.set_remote_id("vip", RemoteKind.SEGMENT, "seg-1") == 1
        assert store.set_remote_id("vip", RemoteKind.FIELD, "f-9", name="LTV") == 2
        assert store.set_remote_id("vip", RemoteKind.SEGMENT, "seg-2") == 3
        store.set_remote_id("other", RemoteKind.TARGET_LIST, "tl-1")
        assert store.remote_id("vip", RemoteKind.SEGMENT) == "seg-2"
        assert store.remote_id("vip", RemoteKind.FIELD, "LTV") == "f-9"
        assert store.remove_remote_id("vip", RemoteKind.FIELD, name="LTV") == 4
        assert [r.remote_id for r in store.remote_ids("vip")] == ["seg-2"]
        assert store.activations() == ("other", "vip")
    with state.reader() as reader:
        assert reader.serial("vip") == 4 and reader.serial("other") == 1


def test_snapshots_replace_stream_and_copy_into_duckdb(state: StateTarget) -> None:
    # Scenario: two applies replace the snapshot; the planner streams or copies the last one.
    with state.writer() as store:
        store.write_snapshot("vip", [_batch(["a", "b"], ["h1", None])], taken_at=T0)
        info = store.write_snapshot("vip", iter([_batch(["b", "c"], ["h2", ""]),
                                                 _batch(["d"], ["h4"])]), taken_at=T0)
        store.write_snapshot("other", [_batch(["z"], ["hz"])])
        assert (info.members, info.taken_at, info.serial) == (3, T0, 2)
        assert _snapshot(store.stream_snapshot("vip", batch_rows=2)) == {
            "b": "h2", "c": "", "d": "h4"}
    with state.reader() as reader:
        assert reader.snapshot_info("vip") == info
        workspace = duckdb.connect()
        reader.copy_snapshot_into("vip", workspace, "snap")
        rows = workspace.execute("SELECT * FROM snap ORDER BY 1").fetchall()
        assert rows == [("b", "h2"), ("c", ""), ("d", "h4")]


def test_copy_of_an_activation_without_rows_beside_one_with_rows(state: StateTarget) -> None:
    # Scenario: one activation was applied; another never was, a third has an empty audience.
    with state.writer() as store:
        store.write_snapshot("vip", [_batch(["a"], ["h1"])], taken_at=T0)
        store.write_snapshot("empty", [], taken_at=T0)
    with state.reader() as reader:
        workspace = duckdb.connect()
        for activation in ("never-applied", "empty"):
            reader.copy_snapshot_into(activation, workspace, "snap")
            assert workspace.execute("SELECT count(*) FROM snap").fetchone() == (0,)
            columns = [row[0] for row in workspace.execute("DESCRIBE snap").fetchall()]
            assert columns == ["member_key", "attributes_hash"]
        reader.copy_snapshot_into("vip", workspace, "snap")
        assert workspace.execute("SELECT * FROM snap").fetchall() == [("a", "h1")]


def test_bulk_snapshot_from_a_duckdb_table(state: StateTarget) -> None:
    # Scenario: the executor saves a 200k-member applied audience straight from DuckDB.
    workspace = duckdb.connect()
    workspace.execute(
        "CREATE TEMP TABLE applied AS SELECT 'K' || i AS member_key, "
        "left(md5(i::VARCHAR), 16) AS attributes_hash FROM range(200000) t(i)"
    )
    with state.writer() as store:
        info = store.write_snapshot_from_duckdb("big", workspace, "applied")
        assert info.members == 200_000
        store.copy_snapshot_into("big", workspace, "snap")
    same = workspace.execute(
        "SELECT count(*) FROM snap JOIN applied USING (member_key, attributes_hash)"
    ).fetchone()
    assert same == (200_000,)


def test_stale_serial_and_failed_streams_change_nothing(state: StateTarget) -> None:
    # Scenario: a write expecting an old serial, and a stream dying midway, both roll back.
    def dying() -> Iterator[pa.RecordBatch]:
        yield _batch(["x"], ["hx"])
        raise RuntimeError("warehouse went away")

    with state.writer() as store:
        store.write_snapshot("vip", [_batch(["a"], ["h"])])
        with pytest.raises(StaleStateError, match="expected 0"):
            store.write_snapshot("vip", [_batch(["b"], ["h"])], expect_serial=0)
        with pytest.raises((RuntimeError, StateError), match="warehouse went away"):
            store.write_snapshot("vip", dying(), expect_serial=1)
        assert store.serial("vip") == 1
        assert _snapshot(store.stream_snapshot("vip")) == {"a": "h"}
        store.set_remote_id("vip", RemoteKind.SEGMENT, "s", expect_serial=1)
        with pytest.raises(ValueError, match="member_key"):
            store.write_snapshot("vip", [pa.record_batch([pa.array(["a"])], names=["key"])])


def test_run_history_newest_first(state: StateTarget) -> None:
    # Scenario: two applies run, one fails; the history shows both with counts and error.
    with state.writer() as store:
        first = store.start_run("vip", started_at=T0)
        store.finish_run(first, RunStatus.SUCCEEDED, counts={"added": 12, "removed": 1},
                         finished_at=T0 + dt.timedelta(minutes=1))
        second = store.start_run("vip", started_at=T0 + dt.timedelta(hours=1))
        store.finish_run(second, RunStatus.FAILED, error="HTTP 503 from Selligent")
        running = store.start_run("vip", started_at=T0 + dt.timedelta(hours=2))
        runs = store.runs("vip")
        assert store.serial("vip") == 5
    assert [r.run_id for r in runs] == [running, second, first]
    assert runs[0].status == RunStatus.RUNNING and runs[0].finished_at is None
    assert runs[1].error == "HTTP 503 from Selligent" and runs[1].status == RunStatus.FAILED
    assert runs[2].counts == {"added": 12, "removed": 1}
    assert runs[2].finished_at == T0 + dt.timedelta(minutes=1)


def test_runs_of_one_moment_keep_the_order_they_began_in(state: StateTarget) -> None:
    # Scenario: a stopped clock (`--now`) gives ten runs the same start; the newest is still
    # the last one begun (an interrupted run followed by successes is not "last interrupted").
    with state.writer() as store:
        begun = []
        for n in range(10):
            begun.append(store.start_run("vip", started_at=T0))
            store.finish_run(begun[-1], RunStatus.INTERRUPTED if n < 9 else RunStatus.SUCCEEDED)
        runs = store.runs("vip")
    assert [r.run_id for r in runs] == begun[::-1]
    assert runs[0].status == RunStatus.SUCCEEDED


def test_an_older_schema_is_migrated_with_its_data(state: StateTarget) -> None:
    # Scenario: a store made by an older reconciler (schema 1) is opened by this one.
    with state.writer(migrate_to=1) as old:
        assert old.schema_version() == 1
        old.set_remote_id("vip", RemoteKind.SEGMENT, "seg-1")
    # What that version's writer left: a snapshot with md5-text hashes and no hash format.
    _execute(state, "INSERT INTO snapshots VALUES ('vip', 'a', '0123456789abcdef')")
    _execute(state, "INSERT INTO snapshot_info VALUES ('vip', 1, now(), 2)")
    with pytest.raises(StateSchemaError, match="any write"):
        state.reader()
    with state.writer() as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.remote_id("vip", RemoteKind.SEGMENT) == "seg-1"
        info = store.snapshot_info("vip")
        assert info is not None and info.hash_format is None  # compared by nothing
        store.start_run("vip")
    with state.reader() as reader:
        assert len(reader.runs("vip")) == 1 and reader.serial("vip") == 2


def test_a_newer_schema_is_refused(state: StateTarget) -> None:
    # Scenario: a store migrated by a newer reconciler is opened by this older code.
    with state.writer() as store:
        store.set_remote_id("vip", RemoteKind.SEGMENT, "seg-1")
    _execute(state, "INSERT INTO schema_version VALUES (99, 'from the future', now())")
    with pytest.raises(StateSchemaError, match="version 99, newer"):
        state.writer()
    with pytest.raises(StateSchemaError, match="upgrade reconciler"):
        state.reader()


def _execute(state: StateTarget, statement: str) -> None:
    if state.location.startswith("postgresql"):
        with psycopg.connect(state.location, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{state.schema}"')
            conn.execute(statement)
    else:
        with duckdb.connect(state.location) as conn:
            conn.execute(statement)
