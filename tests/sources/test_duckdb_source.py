"""The DuckDB source over the example CSV files and over files and databases made here."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ruamel.yaml import YAML

from reconciler.manifests.models import (
    DuckDBSource,
    FieldType,
    ModelDocument,
    ModelSpec,
    SegmentDocument,
)
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    ColumnKind,
    SourceConnectionError,
    SourceQueryError,
    SqlFragment,
    UnknownColumnError,
    discover_columns,
    open_source,
    stream_audience,
)
from reconciler.sources.duckdb_source import DuckDBWarehouse

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
CUSTOMERS = ModelSpec(source="warehouse", table="customers")


def _documents(name: str) -> list[dict[str, Any]]:
    return list(YAML(typ="safe").load_all((MANIFESTS / name).read_text()))


@pytest.fixture
def warehouse() -> Iterator[DuckDBWarehouse]:
    spec = DuckDBSource.model_validate(_documents("sources.yaml")[0]["spec"])
    source = open_source("warehouse", spec, MANIFESTS)
    assert isinstance(source, DuckDBWarehouse)
    with source:
        yield source


def test_discovers_the_example_columns_and_types(warehouse: DuckDBWarehouse) -> None:
    # Scenario: the validator asks which columns the customers model has, and their kinds.
    columns = {c.name: c.kind for c in discover_columns(warehouse, CUSTOMERS)}
    assert columns["customer_id"] == ColumnKind.STRING
    assert columns["lifetime_value"] == ColumnKind.DECIMAL
    assert columns["last_order_date"] == ColumnKind.DATE
    assert columns["email_consent"] == ColumnKind.BOOLEAN


@pytest.mark.parametrize(
    ("segment", "oracle"),
    [
        ("vip-customers", "SELECT customer_id FROM customers "
                          "WHERE lifetime_value >= 1000 AND email_consent"),
        ("sms-benelux", "SELECT customer_id FROM customers WHERE sms_consent "
                        "AND country IN ('BE','NL','LU') AND (phone LIKE '+32%' "
                        "OR phone LIKE '+31%' OR phone LIKE '+352%')"),
        ("churn-risk", "SELECT customer_id FROM customers c JOIN orders o USING (customer_id) "
                       "WHERE c.email IS NOT NULL GROUP BY customer_id "
                       "HAVING count(*) >= 2 AND max(order_date) < DATE '2026-05-31'"),
    ],
)
def test_example_segments_select_what_hand_written_sql_selects(
    warehouse: DuckDBWarehouse, segment: str, oracle: str
) -> None:
    # Scenario: each example segment, compiled, streams exactly the rows of a hand-written query.
    segments = {d["metadata"]["name"]: SegmentDocument.model_validate(d)
                for d in _documents("segments.yaml")}
    models = {d["metadata"]["name"]: ModelDocument.model_validate(d)
              for d in _documents("models.yaml")}
    seg = segments[segment].spec
    spec = AudienceSpec("a", models[seg.model].spec, "customer_id", segment=segment,
                        where=seg.where)
    reader = stream_audience(warehouse, spec, now=NOW, batch_rows=50)
    batches = list(reader)
    assert batches and all(b.num_rows <= 50 for b in batches)
    keys = sorted(k for b in batches for k in b.column("member_key").to_pylist())
    expected = sorted(r[0] for r in warehouse.connection.execute(oracle).fetchall())
    assert keys == expected and len(keys) > 10


def test_stream_projects_key_and_fields_under_destination_names(
    warehouse: DuckDBWarehouse,
) -> None:
    # Scenario: an activation maps lifetime_value to LTV; the stream has member_key and LTV.
    spec = AudienceSpec("vip", CUSTOMERS, "customer_id",
                        (AudienceField("lifetime_value", "LTV", FieldType.DECIMAL),))
    reader = stream_audience(warehouse, spec, now=NOW)
    assert reader.schema.names == ["member_key", "LTV"]
    assert sum(b.num_rows for b in reader) == 5000


def test_unknown_match_key_names_the_activation(warehouse: DuckDBWarehouse) -> None:
    # Scenario: an activation's match key is misspelled.
    spec = AudienceSpec("vip", CUSTOMERS, "customer_idd")
    with pytest.raises(UnknownColumnError, match="activation 'vip'.*'customer_idd'"):
        stream_audience(warehouse, spec, now=NOW)


def test_parquet_globs_and_database_files(tmp_path: Path) -> None:
    # Scenario: a source reads a glob of Parquet files and tables of a DuckDB database file.
    conn = duckdb.connect(str(tmp_path / "wh.duckdb"))
    conn.execute("CREATE TABLE people AS SELECT 'P' || i AS id FROM range(7) t(i)")
    for part in range(2):
        conn.execute(f"COPY (SELECT {part} AS part, i FROM range(3) t(i)) "
                     f"TO '{tmp_path / f'p{part}.parquet'}' (FORMAT parquet)")
    conn.close()
    spec = DuckDBSource(type="duckdb", path="wh.duckdb", files={"parts": "p*.parquet"})
    with DuckDBWarehouse.from_spec("wh", spec, tmp_path) as source:
        rows = source.stream(SqlFragment("SELECT count(*) AS n FROM parts")).read_all()
        assert rows.column("n").to_pylist() == [6]
        people = source.stream(SqlFragment("SELECT count(*) AS n FROM people")).read_all()
        assert people.column("n").to_pylist() == [7]
        with pytest.raises(duckdb.Error):  # sources never write
            source.connection.execute("CREATE TABLE x (i INTEGER)")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (DuckDBSource(type="duckdb", files={"t": "missing/*.csv"}), "table 't'"),
        (DuckDBSource(type="duckdb", files={"t": "data.xlsx"}), "neither CSV nor Parquet"),
        (DuckDBSource(type="duckdb", path="nope.duckdb"), "not found"),
    ],
)
def test_unreadable_files_are_clear_errors(
    tmp_path: Path, spec: DuckDBSource, message: str
) -> None:
    # Scenario: a source manifest points at files that are missing or of an unknown format.
    with pytest.raises(SourceConnectionError, match=message):
        open_source("wh", spec, tmp_path)


def test_bad_model_sql_is_a_source_query_error(warehouse: DuckDBWarehouse) -> None:
    # Scenario: a model's SQL names a table that does not exist.
    model = ModelSpec(source="warehouse", sql="SELECT * FROM nowhere;")
    with pytest.raises(SourceQueryError, match="nowhere"):
        discover_columns(warehouse, model)


@pytest.mark.parametrize("kind", ["database", "files"])
def test_materializes_inside_another_connection_with_sql_models(tmp_path: Path,
                                                                 kind: str) -> None:
    # Scenario: the planner's workspace is another DuckDB connection; a SQL model joining two
    # tables runs there (no Arrow hop), and the workspace is left as it was found: nothing
    # attached, its search path and its own tables untouched.
    if kind == "database":
        with duckdb.connect(str(tmp_path / "wh.duckdb")) as conn:
            conn.execute("CREATE TABLE people AS SELECT * FROM (VALUES ('A', 1), ('B', 2)) "
                         "AS t(id, team)")
            conn.execute("CREATE TABLE teams AS SELECT * FROM (VALUES (1, 'red'), (2, 'blue')) "
                         "AS t(team, colour)")
        source = DuckDBWarehouse("wh", database=tmp_path / "wh.duckdb")
    else:
        (tmp_path / "people.csv").write_text("id,team\nA,1\nB,2\n")
        (tmp_path / "teams.csv").write_text("team,colour\n1,red\n2,blue\n")
        source = DuckDBWarehouse("wh", files={"people": tmp_path / "people.csv",
                                              "teams": tmp_path / "teams.csv"})
    workspace = duckdb.connect()
    workspace.execute("CREATE TEMP TABLE mine AS SELECT 1 AS x")
    databases = workspace.execute("SELECT database_name FROM duckdb_databases()").fetchall()
    sql = ("WITH joined AS (SELECT p.id, t.colour FROM people p JOIN teams t USING (team)) "
           "SELECT * FROM joined WHERE colour <> ?")
    with source:
        source.materialize(SqlFragment(sql, ("red",)), workspace, "aud",
                           select="upper(id) AS id, colour")
    assert workspace.execute("SELECT * FROM aud").fetchall() == [("B", "blue")]
    assert workspace.execute("SELECT database_name FROM duckdb_databases()").fetchall() == \
        databases
    assert workspace.execute("SELECT current_setting('search_path'), "
                             "(SELECT x FROM mine)").fetchall() == [("", 1)]
