"""The PostgreSQL source on the real server: streaming, types, same answers as DuckDB."""
from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from psycopg import sql
from ruamel.yaml import YAML

from reconciler.manifests.models import (
    DuckDBSource,
    FieldType,
    ModelSpec,
    PostgresSource,
    SegmentDocument,
)
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    ColumnKind,
    SourceConnectionError,
    SourceQueryError,
    discover_columns,
    materialize_audience,
    materialize_rows,
    open_source,
    stream_audience,
)
from reconciler.sources.postgres_source import PostgresWarehouse

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
HOSTILE = 'weird "name"; DROP TABLE x'
CUSTOMERS_DDL = (
    "CREATE TABLE customers (customer_id text, email text, phone text, first_name text, "
    "last_name text, country text, lifetime_value numeric(12,2), last_order_date date, "
    "email_consent boolean, sms_consent boolean, created_at date)"
)


@pytest.fixture
def warehouse(
    postgres_url: str, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostgresWarehouse]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(postgres_schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(postgres_schema)))
        conn.execute(CUSTOMERS_DDL)
        with conn.cursor().copy("COPY customers FROM STDIN (FORMAT csv, HEADER true)") as copy:
            copy.write((MANIFESTS / "data" / "customers.csv").read_bytes())
        conn.execute(sql.SQL("CREATE TABLE {} ({} text, n integer)").format(
            sql.Identifier(HOSTILE), sql.Identifier(HOSTILE)))
        conn.execute(sql.SQL("INSERT INTO {} VALUES ('a%b', 1), ('c', 2)").format(
            sql.Identifier(HOSTILE)))
    monkeypatch.setenv("RECONCILER_TEST_WAREHOUSE_URL", postgres_url)
    spec = PostgresSource(type="postgres", url="${env:RECONCILER_TEST_WAREHOUSE_URL}",
                          search_path=postgres_schema)
    source = open_source("pg", spec, MANIFESTS)
    assert isinstance(source, PostgresWarehouse)
    with source:
        yield source


CUSTOMERS = ModelSpec(source="pg", table="customers")


def test_discovers_columns_with_normalized_kinds(warehouse: PostgresWarehouse) -> None:
    # Scenario: the validator reads a PostgreSQL model's columns without reading rows.
    columns = {c.name: (c.kind, c.native_type) for c in discover_columns(warehouse, CUSTOMERS)}
    assert columns["lifetime_value"] == (ColumnKind.DECIMAL, "numeric")
    assert columns["last_order_date"] == (ColumnKind.DATE, "date")
    assert columns["email_consent"] == (ColumnKind.BOOLEAN, "bool")
    assert columns["customer_id"] == (ColumnKind.STRING, "text")


@pytest.mark.parametrize("segment", ["vip-customers", "sms-benelux"])
def test_segments_select_the_same_rows_as_on_duckdb(
    warehouse: PostgresWarehouse, segment: str
) -> None:
    # Scenario: one segment over the same data gives the same audience on both dialects.
    docs = YAML(typ="safe").load_all((MANIFESTS / "segments.yaml").read_text())
    where = {d["metadata"]["name"]: SegmentDocument.model_validate(d) for d in docs}[
        segment].spec.where
    fields = (AudienceField("lifetime_value", "LTV", FieldType.DECIMAL),)
    spec = AudienceSpec("a", CUSTOMERS, "customer_id", fields, segment=segment, where=where)
    batches = list(stream_audience(warehouse, spec, now=NOW, batch_rows=40))
    assert len(batches) > 1 and all(b.num_rows <= 40 for b in batches)
    pg_rows = sorted((k, v) for b in batches for k, v in zip(
        b.column("member_key").to_pylist(), b.column("LTV").to_pylist(), strict=True))
    duck_spec = DuckDBSource(type="duckdb", files={"customers": "data/customers.csv"})
    with open_source("duck", duck_spec, MANIFESTS) as duck:
        duck_rows = sorted(
            (k, v) for b in stream_audience(duck, spec, now=NOW) for k, v in zip(
                b.column("member_key").to_pylist(), b.column("LTV").to_pylist(), strict=True))
    assert [k for k, _ in pg_rows] == [k for k, _ in duck_rows] and pg_rows
    assert all(float(p) == d for (_, p), (_, d) in zip(pg_rows, duck_rows, strict=True))


def test_hostile_names_and_percent_signs_in_model_sql(warehouse: PostgresWarehouse) -> None:
    # Scenario: a table and column named to break SQL, and a model whose SQL contains '%'.
    table = ModelSpec(source="pg", table=HOSTILE)
    spec = AudienceSpec("a", table, HOSTILE, (AudienceField("n", "N", FieldType.INTEGER),))
    rows = stream_audience(warehouse, spec, now=NOW).read_all().to_pylist()
    assert sorted(r["member_key"] for r in rows) == ["a%b", "c"]
    model = ModelSpec(source="pg", sql="SELECT customer_id, 7 % 4 AS r FROM customers "
                                       "WHERE email LIKE '%@example.com'")
    batch = stream_audience(warehouse, AudienceSpec("b", model, "customer_id",
                            (AudienceField("r", "R"),)), now=NOW).read_all()
    assert batch.num_rows > 100 and set(batch.column("R").to_pylist()) == {3}


def test_percent_signs_in_table_and_column_names(
        warehouse: PostgresWarehouse, postgres_url: str, postgres_schema: str) -> None:
    # Scenario (found by tests/fuzz): a table and columns named with '%' ('a%s' reads as a
    # psycopg marker), as key, field and segment column: quoted names, nothing misbound.
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {}.{} ({} text, {} text)").format(
            sql.Identifier(postgres_schema), sql.Identifier("50% off"), sql.Identifier("a%s"),
            sql.Identifier("rate %")))
        conn.execute(sql.SQL("INSERT INTO {}.{} VALUES ('k1', 'x%'), ('k2', 'y')").format(
            sql.Identifier(postgres_schema), sql.Identifier("50% off")))
    segment = SegmentDocument.model_validate({
        "apiVersion": "reconciler/v1", "kind": "Segment", "metadata": {"name": "pct"},
        "spec": {"model": "m", "where": {"column": "rate %", "endsWith": "%"}}})
    spec = AudienceSpec("pct", ModelSpec(source="pg", table="50% off"), "a%s",
                        (AudienceField("rate %", "RATE"),), segment="pct",
                        where=segment.spec.where)
    rows = stream_audience(warehouse, spec, now=NOW).read_all().to_pylist()
    assert rows == [{"member_key": "k1", "RATE": "x%"}]


def test_materializes_into_duckdb_with_checks(warehouse: PostgresWarehouse) -> None:
    # Scenario: a PostgreSQL audience is streamed into the planner's DuckDB and checked there.
    workspace = duckdb.connect()
    fields = (AudienceField("lifetime_value", "LTV", FieldType.DECIMAL),
              AudienceField("email_consent", "OPTIN", FieldType.BOOLEAN))
    spec = AudienceSpec("all", CUSTOMERS, "customer_id", fields)
    report = materialize_audience(warehouse, spec, workspace, "aud", now=NOW)
    assert (report.rows_read, report.valid_rows, report.problems) == (5000, 5000, ())
    materialize_rows(warehouse, spec, workspace, "rows", "aud", now=NOW)  # values, read again
    total: Any = workspace.execute("SELECT round(sum(LTV), 2), count(*) FROM rows").fetchone()
    assert total[1] == 5000
    workspace.execute("CREATE TABLE nothing AS SELECT * FROM aud LIMIT 0")
    materialize_rows(warehouse, spec, workspace, "none", "nothing", now=NOW)
    assert workspace.execute("SELECT count(*), count(LTV), count(OPTIN) FROM none").fetchall() \
        == [(0, 0, 0)]
    with duckdb.connect() as duck:
        expected: Any = duck.execute(
            "SELECT round(sum(lifetime_value), 2) FROM read_csv_auto(?)",
            [str(MANIFESTS / "data" / "customers.csv")]).fetchone()
    assert total[0] == pytest.approx(expected[0])


def test_bad_sql_is_a_source_error_and_the_connection_recovers(
    warehouse: PostgresWarehouse,
) -> None:
    # Scenario: a model's SQL fails on the server; the next query on the source still works.
    bad = ModelSpec(source="pg", sql="SELECT * FROM missing_table")
    with pytest.raises(SourceQueryError, match="missing_table"):
        discover_columns(warehouse, bad)
    assert discover_columns(warehouse, CUSTOMERS)


def test_a_model_cannot_write_to_the_warehouse(
    warehouse: PostgresWarehouse, postgres_url: str, postgres_schema: str
) -> None:
    # Scenario: a model's SQL advances a sequence (a write); the read-only session refuses it.
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SEQUENCE {}.counter").format(
            sql.Identifier(postgres_schema)))
    model = ModelSpec(source="pg", sql=(
        "SELECT customer_id, nextval('counter') AS n FROM customers"))
    with pytest.raises(SourceQueryError, match="read-only"):
        list(stream_audience(warehouse, AudienceSpec("x", model, "customer_id"), now=NOW))
    assert discover_columns(warehouse, CUSTOMERS)


def test_instants_and_numerics_arrive_exact(warehouse: PostgresWarehouse) -> None:
    # Scenario: timestamptz and numeric model columns reach DuckDB as UTC instants and exact text.
    model = ModelSpec(source="pg", sql=(
        "SELECT 'A' AS id, TIMESTAMPTZ '2026-03-01 10:00:00+02' AS seen, "
        "12345678901234567890.12::numeric AS big"))
    fields = (AudienceField("seen", "SEEN", FieldType.TIMESTAMP), AudienceField("big", "BIG"))
    workspace = duckdb.connect()
    workspace.execute("SET TimeZone = 'America/New_York'")
    spec = AudienceSpec("t", model, "id", fields)
    materialize_audience(warehouse, spec, workspace, "aud", now=NOW)
    materialize_rows(warehouse, spec, workspace, "rows", "aud", now=NOW)
    assert workspace.execute("SELECT SEEN, BIG FROM rows").fetchall() == [
        (dt.datetime(2026, 3, 1, 8, 0), "12345678901234567890.12")]


def test_a_warehouse_that_refuses_the_connection_is_named_without_the_password() -> None:
    # Scenario: the Source's url names a port nothing listens on: the error says which
    # server (no user, no password, no query), what happened, on one line.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceConnectionError) as caught:
        PostgresWarehouse("warehouse", url=f"postgresql://bi:hunter2@127.0.0.1:{port}/wh"
                                           "?sslmode=disable")
    message = str(caught.value)
    assert message.startswith(f"source 'warehouse': cannot connect to "
                              f"postgresql://127.0.0.1:{port}/wh: ")
    assert "Connection refused" in message and "\n" not in message
    assert "hunter2" not in message and "bi@" not in message
    assert "that the warehouse is running" in caught.value.hint
