"""Materializing audiences into DuckDB: bad rows counted, masked, left out; hashes stable."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from reconciler.manifests.models import DuckDBSource, FieldType, ModelSpec
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    NoValidRowsError,
    ProblemKind,
    materialize_audience,
    materialize_rows,
    open_source,
)
from reconciler.sources.duckdb_source import DuckDBWarehouse

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
MODEL = ModelSpec(source="wh", table="people")
ROWS = """id,email,score,born,vip
P001,ann.smith@example.com,10,1990-01-02,true
P002,bob.jones@example.com,11.5,1991-02-03,false
P003,carl.berg@example.com,abc,1992-03-04,true
P003,carl.other@example.com,12,1992-03-04,true
,nobody@example.com,13,1993-04-05,false
  ,blank@example.com,14,1993-04-05,false
P006,dina.moss@example.com,15,not-a-date,maybe
P007,eve.adams@example.com,,,
"""


def _warehouse(tmp_path: Path, rows: str = ROWS) -> DuckDBWarehouse:
    (tmp_path / "people.csv").write_text(rows)
    spec = DuckDBSource(type="duckdb", files={"people": "people.csv"})
    source = open_source("wh", spec, tmp_path)
    assert isinstance(source, DuckDBWarehouse)
    return source


def _spec(*fields: AudienceField) -> AudienceSpec:
    return AudienceSpec("people-sync", MODEL, "id", fields)


SCORE = AudienceField("score", "SCORE", FieldType.INTEGER)
BORN = AudienceField("born", "BORN", FieldType.DATE)
VIP = AudienceField("vip", "VIP", FieldType.BOOLEAN)
MAIL = AudienceField("email", "MAIL")


def test_bad_rows_are_counted_masked_and_left_out(tmp_path: Path) -> None:
    # Scenario: null/blank keys, a duplicate key and values unfit for their types.
    workspace = duckdb.connect()
    with _warehouse(tmp_path) as source:
        report = materialize_audience(source, _spec(SCORE, BORN, VIP, MAIL), workspace,
                                      "audience", now=NOW)
    problems = {(p.kind, p.field): p for p in report.problems}
    assert report.rows_read == 8
    assert problems[(ProblemKind.NULL_KEY, None)].rows == 2
    assert problems[(ProblemKind.DUPLICATE_KEY, None)].rows == 2
    assert problems[(ProblemKind.DUPLICATE_KEY, None)].samples == ("****",)
    assert problems[(ProblemKind.INVALID_VALUE, "SCORE")].rows == 2  # 11.5 and abc
    assert problems[(ProblemKind.INVALID_VALUE, "BORN")].rows == 1
    assert problems[(ProblemKind.INVALID_VALUE, "VIP")].rows == 1
    # Samples of invalid values are read again from the source, masked: `key: value`.
    assert problems[(ProblemKind.INVALID_VALUE, "SCORE")].samples == ("****: ****", "****: ***")
    assert problems[(ProblemKind.INVALID_VALUE, "BORN")].samples == ("****: n********e",)
    assert problems[(ProblemKind.INVALID_VALUE, "VIP")].samples == ("****: m***e",)
    keys = [r[0] for r in workspace.execute(
        "SELECT member_key FROM audience ORDER BY 1").fetchall()]
    assert keys == ["P001", "P007"]
    assert report.valid_rows == 2 and report.rejected_rows == 6
    text = " ".join(p.describe() for p in report.problems)
    for raw in ("P003", "P006", "abc", "not-a-date", "maybe", "11.5", "example.com,"):
        assert raw not in text


def test_values_are_converted_to_their_field_types(tmp_path: Path) -> None:
    # Scenario: the audience table holds typed values, NULLs kept, plus a 64-bit hash.
    workspace = duckdb.connect()
    with _warehouse(tmp_path) as source:
        materialize_audience(source, _spec(SCORE, BORN, VIP), workspace, "aud", now=NOW)
        materialize_rows(source, _spec(SCORE, BORN, VIP), workspace, "rows", "aud", now=NOW)
    rows = workspace.execute(
        "SELECT member_key, SCORE, BORN, VIP, typeof(attributes_hash), "
        "attributes_hash IS NOT NULL FROM rows ORDER BY 1"
    ).fetchall()
    assert rows == [("P001", 10, dt.date(1990, 1, 2), True, "UBIGINT", True),
                    ("P007", None, None, None, "UBIGINT", True)]


def test_hash_changes_with_values_and_mapping_only(tmp_path: Path) -> None:
    # Scenario: the same values hash the same; a changed value or a renamed field does not.
    def hashes(rows: str, field: AudienceField) -> dict[str, str]:
        workspace = duckdb.connect()
        with _warehouse(tmp_path, rows) as source:
            materialize_audience(source, _spec(field), workspace, "aud", now=NOW)
        return dict(workspace.execute("SELECT member_key, attributes_hash FROM aud").fetchall())

    base = hashes("id,score\nA,1\nB,2\n", SCORE)
    assert base == hashes("id,score\nA,1\nB,2\n", SCORE)
    changed = hashes("id,score\nA,1\nB,3\n", SCORE)
    assert changed["A"] == base["A"] and changed["B"] != base["B"]
    renamed = hashes("id,score\nA,1\nB,2\n", AudienceField("score", "POINTS", FieldType.INTEGER))
    assert renamed["A"] != base["A"]


def test_nothing_valid_left_is_an_error(tmp_path: Path) -> None:
    # Scenario: every row has a duplicate or missing key; the activation fails cleanly.
    with _warehouse(tmp_path, "id,score\nA,1\nA,2\n,3\n") as source, \
            pytest.raises(NoValidRowsError, match="people-sync.*none of the 3 rows"):
        materialize_audience(source, _spec(SCORE), duckdb.connect(), "aud", now=NOW)


def test_empty_audience_is_not_an_error(tmp_path: Path) -> None:
    # Scenario: a segment selects nobody; the report says so, the table exists and is empty.
    workspace = duckdb.connect()
    with _warehouse(tmp_path, "id,score\n") as source:
        report = materialize_audience(source, _spec(SCORE), workspace, "aud", now=NOW)
    assert (report.rows_read, report.valid_rows, report.problems) == (0, 0, ())
    assert workspace.execute("SELECT count(*) FROM aud").fetchone() == (0,)


def test_materializes_in_the_sources_own_connection(tmp_path: Path) -> None:
    # Scenario: the planner diffs next to the data, in the DuckDB source's connection.
    with _warehouse(tmp_path) as source:
        report = materialize_audience(source, _spec(MAIL), source.connection, "aud", now=NOW)
        assert report.valid_rows == 4
        assert source.connection.execute("SELECT count(*) FROM aud").fetchone() == (4,)


def test_membership_only_audiences_have_no_hash(tmp_path: Path) -> None:
    # Scenario: an activation maps no fields; there is nothing to hash, the hash is NULL.
    workspace = duckdb.connect()
    with _warehouse(tmp_path, "id\nA\nB\n") as source:
        report = materialize_audience(source, _spec(), workspace, "aud", now=NOW)
        again = materialize_audience(source, _spec(), workspace, "aud", now=NOW)
    assert report.valid_rows == again.valid_rows == 2
    assert workspace.execute("SELECT * FROM aud ORDER BY 1").fetchall() == [
        ("A", None), ("B", None)]


def test_instants_convert_in_utc_whatever_the_machines_zone(tmp_path: Path) -> None:
    # Scenario: a timestamptz field planned on machines in two time zones hashes the same.
    database = tmp_path / "wh.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("CREATE TABLE people AS SELECT 'A' AS id, "
                     "TIMESTAMPTZ '2026-03-01 10:00:00+00' AS seen")
    seen = AudienceField("seen", "SEEN", FieldType.TIMESTAMP)
    results = []
    for zone in ("UTC", "Asia/Tokyo"):
        workspace = duckdb.connect()
        workspace.execute(f"SET TimeZone = '{zone}'")
        with DuckDBWarehouse("wh", database=database) as source:
            materialize_audience(source, _spec(seen), workspace, "aud", now=NOW)
            materialize_rows(source, _spec(seen), workspace, "rows", "aud", now=NOW)
        results.append(workspace.execute("SELECT SEEN, attributes_hash FROM rows").fetchall())
    assert results[0] == results[1]
    assert results[0][0][0] == dt.datetime(2026, 3, 1, 10, 0)


def test_rows_are_read_again_only_while_unchanged(tmp_path: Path) -> None:
    # Scenario: the values of planned rows are read again by key; a row whose values changed
    # in the warehouse since the plan read it, or that is now duplicated, is left out.
    workspace = duckdb.connect()
    spec = _spec(SCORE, MAIL)
    with _warehouse(tmp_path, "id,email,score\nA,a@example.com,1\nB,b@example.com,2\n"
                    "C,c@example.com,3\n") as source:
        materialize_audience(source, spec, workspace, "aud", now=NOW)
    workspace.execute("CREATE TABLE wanted AS SELECT * FROM aud WHERE member_key <> 'C'")
    with _warehouse(tmp_path, "id,email,score\nA,a@example.com,1\nB,b@example.com,5\n"
                    "C,c@example.com,3\nA,a@example.com,1\n") as source:
        materialize_rows(source, spec, workspace, "rows", "wanted", now=NOW)
    assert workspace.execute("SELECT member_key, SCORE, MAIL FROM rows").fetchall() == [
        ("A", 1, "a@example.com")]


def test_no_rows_to_read_again_still_gives_the_columns(tmp_path: Path) -> None:
    # Scenario: nothing changed, so no row is read again; the (empty) table still has every
    # field's column, typed, for whoever reads it.
    workspace = duckdb.connect()
    with _warehouse(tmp_path) as source:
        materialize_audience(source, _spec(SCORE, MAIL), workspace, "aud", now=NOW)
        workspace.execute("CREATE TABLE nothing AS SELECT * FROM aud LIMIT 0")
        materialize_rows(source, _spec(SCORE, MAIL), workspace, "rows", "nothing", now=NOW)
    assert workspace.execute("SELECT count(*) FROM rows").fetchall() == [(0,)]
    assert [(c[0], c[1]) for c in workspace.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'rows'"
    ).fetchall()] == [("member_key", "VARCHAR"), ("SCORE", "BIGINT"), ("MAIL", "VARCHAR"),
                      ("attributes_hash", "UBIGINT")]


def test_text_longer_than_the_destination_field_is_rejected_at_plan_time(
        tmp_path: Path) -> None:
    # Scenario: the destination's MAIL field holds 21 characters: longer addresses are
    # counted and sampled (masked) as invalid values now, not refused row by row at apply.
    workspace = duckdb.connect()
    short_mail = AudienceField("email", "MAIL", FieldType.STRING, max_length=21)
    with _warehouse(tmp_path) as source:
        report = materialize_audience(source, _spec(short_mail), workspace, "audience",
                                      now=NOW)
    [too_long] = [p for p in report.problems if p.kind is ProblemKind.INVALID_VALUE]
    assert too_long.field == "MAIL"
    assert too_long.rows == 1  # carl.other@example.com (22); the others have 21 or fewer
    assert too_long.samples and all("carl.other" not in s for s in too_long.samples)
    kept = {row[0] for row in workspace.execute("SELECT member_key FROM audience").fetchall()}
    assert {"P001", "P002", "P006", "P007"} <= kept
