"""File tables typed as the Source declares, or from the whole file: bad rows, never a guess."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from reconciler.manifests.models import DuckDBSource, FieldType, FileTable, ModelSpec
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    ProblemKind,
    SourceConnectionError,
    SqlFragment,
    discover_columns,
    materialize_audience,
    open_source,
)
from reconciler.sources.duckdb_source import DuckDBWarehouse
from reconciler.sources.filetables import read_file_table

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
PEOPLE = """id,zip,ltv,joined
C000001,01000,1200.50,2026-01-02
C000002,02000,abc,2026-02-03
C000003,03000,900,someday
C000004,04000,1500,2026-04-05
C000005,05000,,
"""
DECLARED = {"zip": FieldType.STRING, "ltv": FieldType.DECIMAL, "joined": FieldType.DATE}


def _open(tmp_path: Path, rows: str, **columns: FieldType) -> DuckDBWarehouse:
    (tmp_path / "people.csv").write_text(rows)
    (tmp_path / "orders.csv").write_text("id,amount\nC000001,3\n")
    spec = DuckDBSource(type="duckdb", files={
        "people": FileTable(path="people.csv", columns=columns), "orders": "orders.csv"})
    source = open_source("wh", spec, tmp_path)
    assert isinstance(source, DuckDBWarehouse)
    return source


def _types(source: DuckDBWarehouse, table: str = "people") -> dict[str, str]:
    return {c.name: c.native_type
            for c in discover_columns(source, ModelSpec(source="wh", table=table))}


def test_declared_columns_are_typed_and_unfit_rows_are_bad_rows(tmp_path: Path) -> None:
    # Scenario: `abc` in a declared decimal and `someday` in a declared date leave their rows
    # out, counted per column with masked samples; the columns keep their declared types and
    # the declared text column keeps its leading zeros.
    with _open(tmp_path, PEOPLE, **DECLARED) as source:
        assert _types(source) == {"id": "VARCHAR", "zip": "VARCHAR", "ltv": "DOUBLE",
                                  "joined": "DATE"}
        rows = source.connection.execute("SELECT id, zip, ltv FROM people ORDER BY id")
        assert rows.fetchall() == [("C000001", "01000", 1200.5), ("C000004", "04000", 1500.0),
                                   ("C000005", "05000", None)]
        bad = source.bad_rows(SqlFragment("SELECT * FROM people"))
    assert [(b.table, b.column, b.type, b.rows, b.samples) for b in bad] == [
        ("people", "ltv", "decimal", 1, ("***",)),
        ("people", "joined", "date", 1, ("s*****y",))]


def test_undeclared_columns_are_typed_from_the_whole_file(tmp_path: Path) -> None:
    # Scenario: a bad cell after DuckDB's 20,480-row sample: the column is text from the
    # start (no conversion error halfway through a read), and the same on every read.
    rows = "id,ltv\n" + "".join(f"C{n:06},{n}.5\n" for n in range(30_000)) + "C999999,abc\n"
    with _open(tmp_path, rows) as source:
        assert _types(source)["ltv"] == "VARCHAR"
        count = source.connection.execute("SELECT count(ltv) FROM people").fetchall()
        assert count == [(30_001,)]
        assert source.bad_rows(SqlFragment("SELECT * FROM people")) == ()


def test_bad_rows_are_those_of_the_tables_a_model_reads(tmp_path: Path) -> None:
    # Scenario: a model over orders only reports none of people's bad rows; a join reports
    # them once however often they are asked for.
    with _open(tmp_path, PEOPLE, **DECLARED) as source:
        assert source.bad_rows(SqlFragment("SELECT * FROM orders AS o")) == ()
        join = SqlFragment('SELECT * FROM (SELECT p.id FROM "People" AS p LEFT JOIN orders '
                           "USING (id) GROUP BY ALL) AS m")
        assert len(source.bad_rows(join)) == len(source.bad_rows(join)) == 2


def test_the_audience_report_carries_the_bad_source_rows(tmp_path: Path) -> None:
    # Scenario: materializing an audience over the typed table: the two bad rows are data
    # problems of the audience (masked), the others are synced.
    spec = AudienceSpec("people-sync", ModelSpec(source="wh", table="people"), "id",
                        (AudienceField("ltv", "LTV", FieldType.DECIMAL),))
    workspace = duckdb.connect()
    with _open(tmp_path, PEOPLE, **DECLARED) as source:
        report = materialize_audience(source, spec, workspace, "aud", now=NOW)
    problems = [(p.kind, p.field, p.rows, p.samples) for p in report.problems]
    assert problems == [
        (ProblemKind.BAD_SOURCE_ROW, "people.ltv: not a decimal", 1, ("***",)),
        (ProblemKind.BAD_SOURCE_ROW, "people.joined: not a date", 1, ("s*****y",))]
    assert report.valid_rows == 3


def test_a_declared_column_the_file_lacks_is_an_error(tmp_path: Path) -> None:
    # Scenario: `columns` names a column that is not in the file's header.
    with pytest.raises(SourceConnectionError, match="table 'people': people.csv has no column "
                       "'score' .*its columns: id, zip, ltv, joined"):
        _open(tmp_path, PEOPLE, score=FieldType.INTEGER)


def test_globs_and_parquet_are_typed_as_declared(tmp_path: Path) -> None:
    # Scenario: two CSV files by glob and a Parquet file, each with an unfit value.
    (tmp_path / "a.csv").write_text("id,n\nA,1\nB,x\n")
    (tmp_path / "b.csv").write_text("id,n\nC,2.5\n")
    duckdb.connect().execute(f"COPY (SELECT 'D' AS id, 'y' AS n UNION ALL SELECT 'E', '7') "
                             f"TO '{tmp_path / 'p.parquet'}' (FORMAT parquet)")
    spec = DuckDBSource(type="duckdb", files={
        "csvs": FileTable(path="*.csv", columns={"n": FieldType.INTEGER}),
        "pq": FileTable(path="p.parquet", columns={"n": FieldType.INTEGER})})
    with open_source("wh", spec, tmp_path) as source:
        assert isinstance(source, DuckDBWarehouse)
        assert source.connection.execute("SELECT * FROM csvs UNION ALL SELECT * FROM pq "
                                         "ORDER BY 1").fetchall() == [("A", 1), ("E", 7)]
        bad = source.bad_rows(SqlFragment("SELECT * FROM csvs, pq"))
    assert sorted((b.table, b.rows) for b in bad) == [("csvs", 2), ("pq", 1)]


def test_the_keys_of_bad_rows_are_held(tmp_path: Path) -> None:
    # Scenario: a model joining people and orders: C000002 and C000003 have bad people rows,
    # C000004 a bad order (its people row is fine, but its order count would be wrong): all
    # three are held for the diff to keep as they are; only C000001 and C000005 are synced.
    (tmp_path / "people.csv").write_text(PEOPLE)
    (tmp_path / "orders.csv").write_text("id,amount\nC000001,3\nC000004,x\nC000004,4\n")
    spec = DuckDBSource(type="duckdb", files={
        "people": FileTable(path="people.csv", columns=DECLARED),
        "orders": FileTable(path="orders.csv", columns={"amount": FieldType.DECIMAL})})
    model = ModelSpec(source="wh", sql="SELECT p.id, count(o.amount) AS n FROM people AS p "
                                       "LEFT JOIN orders AS o ON o.id = p.id GROUP BY ALL")
    audience = AudienceSpec("people-sync", model, "id")
    workspace = duckdb.connect()
    with open_source("wh", spec, tmp_path) as source:
        report = materialize_audience(source, audience, workspace, "aud", now=NOW, held="held")
    assert workspace.execute("SELECT member_key FROM held ORDER BY 1").fetchall() == [
        ("C000002",), ("C000003",), ("C000004",)]
    assert workspace.execute("SELECT member_key FROM aud ORDER BY 1").fetchall() == [
        ("C000001",), ("C000005",)]
    assert (report.held_bad_keys, report.held_keys, report.valid_rows) == (3, 3, 2)
    assert sorted(p.field or "" for p in report.problems) == [
        "orders.amount: not a decimal", "people.joined: not a date",
        "people.ltv: not a decimal"]


@pytest.mark.parametrize(("content", "rows"), [
    (b'id;name;note\r\n1;"x;y";"he said ""hi"""\r\n2;z;\r\n',
     [(1, "x;y", 'he said "hi"'), (2, "z", None)]),
    (b"id,name,note\n1,a,b\n", [(1, "a", "b")]),
    (b"1,2,3\n4,5,6\n", [(1, 2, 3), (4, 5, 6)]),  # no header: DuckDB's column0…
])
def test_a_csv_file_is_read_with_the_dialect_sniffed_once(
        tmp_path: Path, content: bytes, rows: list[tuple[object, ...]]) -> None:
    # Scenario: the sniffer's dialect (delimiter, quotes, line ends, header) is pinned in the
    # reading SQL, auto-detection off, so a read does not sniff again; the rows are the same.
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    conn = duckdb.connect()
    reading = read_file_table(conn, "wh", "t", path, {})
    assert "auto_detect=false" in reading.raw
    assert conn.execute(f"{reading.rows} ORDER BY 1").fetchall() == rows
