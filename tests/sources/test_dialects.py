"""Hostile literals in segment conditions, in every dialect: bound, never in the SQL text.

DuckDB, PostgreSQL and Snowflake (the emulator, over HTTP) run the query and must return
exactly the row holding the value; BigQuery is checked at the SQL level with sqlglot's
BigQuery parser (no emulator installs from the registries these machines reach).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlglot
from psycopg import sql
from pydantic import TypeAdapter
from sqlglot import exp

from reconciler.manifests.conditions import Condition
from reconciler.manifests.models import ModelSpec
from reconciler.sandbox.snowflake import SnowflakeEmulator
from reconciler.sources import AudienceField, AudienceSpec, Column, ColumnKind, Source
from reconciler.sources.audience import build_audience_query, stream_audience
from reconciler.sources.compiler import escape_like
from reconciler.sources.dialects import (
    BIGQUERY,
    DIALECTS,
    DUCKDB,
    DialectName,
    SqlTextError,
    transpile,
)
from reconciler.sources.duckdb_source import DuckDBWarehouse
from reconciler.sources.postgres_source import PostgresWarehouse

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
HOSTILE = [
    "O'Brien",
    "x'); DROP TABLE customers; --",
    "a -- comment\nb",
    "/* not a comment */ OR 1=1",
    "back\\slash\\' and \\\\",
    'double "quoted" name',
    "100% off; 50%s %(x)s",
    "naïve Ünïcødé 🎉 中文 ‮rtl",
    "semi;colon;",
    "$1 :1 @p ? :name",
]
_CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)
COLUMNS = [Column("customer_id", ColumnKind.STRING, "text"),
           Column("name", ColumnKind.STRING, "text")]


def _conditions(value: str) -> list[dict[str, Any]]:
    """Conditions true for the row holding `value` only (every operator that binds text)."""
    return [
        {"column": "name", "eq": value},
        {"all": [{"column": "name", "in": [value, "nobody"]},
                 {"not": {"column": "name", "ne": value}}]},
        {"all": [{"column": "name", "contains": value},
                 {"column": "name", "startsWith": value},
                 {"column": "name", "endsWith": value}]},
    ]


def _spec(condition: dict[str, Any]) -> AudienceSpec:
    return AudienceSpec("hostile", ModelSpec(source="w", table="customers"), "customer_id",
                        fields=(AudienceField("name", "name"),), segment="s",
                        where=_CONDITION.validate_python(condition))


CASES = [(value, condition) for value in HOSTILE for condition in _conditions(value)]
ROWS = [("C0", "plain"), *[(f"C{i + 1}", value) for i, value in enumerate(HOSTILE)]]


@pytest.mark.parametrize("dialect", list(DialectName))
def test_hostile_literals_are_bound_never_in_the_text(dialect: DialectName):
    # Scenario: every hostile literal is a parameter: the SQL text of each dialect holds none.
    for value, condition in CASES:
        query = build_audience_query(_spec(condition), DIALECTS[dialect], now=NOW,
                                     columns=COLUMNS)
        assert value not in query.sql
        assert any(p in (value, f"%{escape_like(value)}%", f"{escape_like(value)}%",
                         f"%{escape_like(value)}") for p in query.params)
        assert "'" not in query.sql.replace("'\\\\'", "").replace("'\\'", "")


def test_bigquery_sql_parses_with_one_placeholder_per_value():
    # Scenario: the BigQuery text parses in sqlglot's BigQuery dialect; its only literals are
    # the LIKE escape's (none: BigQuery escapes with a backslash by itself), and each value
    # has its own positional placeholder.
    for _value, condition in CASES:
        query = build_audience_query(_spec(condition), BIGQUERY, now=NOW, columns=COLUMNS)
        tree = sqlglot.parse_one(query.sql, read="bigquery")
        assert not list(tree.find_all(exp.Literal))
        assert len(list(tree.find_all(exp.Placeholder))) == len(query.params)
        assert "`name`" in query.sql and "ESCAPE" not in query.sql


def _keys(source: Source, condition: dict[str, Any]) -> list[str]:
    rows = stream_audience(source, _spec(condition), now=NOW).read_all().to_pylist()
    return sorted(str(row["member_key"]) for row in rows)


def _check_engine(source: Source) -> None:
    for number, value in enumerate(HOSTILE, start=1):
        for condition in _conditions(value):
            assert _keys(source, condition) == [f"C{number}"], (value, condition)
    assert len(_keys(source, {"column": "name", "isNull": False})) == len(ROWS)


def test_duckdb_returns_the_row_of_each_hostile_value():
    # Scenario: DuckDB runs each query; the hostile value selects exactly its own row.
    source = DuckDBWarehouse("w")
    source.connection.execute("CREATE TABLE customers (customer_id VARCHAR, name VARCHAR)")
    source.connection.executemany("INSERT INTO customers VALUES (?, ?)", ROWS)
    with source:
        _check_engine(source)
    assert DUCKDB.quote('a"b') == '"a""b"'


@pytest.fixture
def postgres_source(postgres_url: str, postgres_schema: str) -> Iterator[PostgresWarehouse]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(postgres_schema)))
        table = sql.Identifier(postgres_schema, "customers")
        conn.execute(sql.SQL("CREATE TABLE {} (customer_id text, name text)").format(table))
        conn.cursor().executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(table), ROWS)
    with PostgresWarehouse("w", url=postgres_url, search_path=postgres_schema) as source:
        yield source


def test_postgres_returns_the_row_of_each_hostile_value(postgres_source: PostgresWarehouse):
    # Scenario: PostgreSQL runs each query (psycopg binds `%s`; `%` in values stays data).
    _check_engine(postgres_source)


def test_snowflake_returns_the_row_of_each_hostile_value(
        snowflake_emulator: SnowflakeEmulator, snowflake_database: str):
    # Scenario: the Snowflake emulator, reached over HTTP by the real connector with qmark
    # binding, returns each hostile value's own row.
    import snowflake.connector

    from reconciler.sources.snowflake_source import SnowflakeWarehouse

    snowflake_emulator.seed(snowflake_database, "PUBLIC", [
        "CREATE TABLE customers (customer_id VARCHAR, name VARCHAR)"])
    with snowflake.connector.connect(**snowflake_emulator.connect_arguments(
            snowflake_database, "PUBLIC"), paramstyle="qmark") as conn:
        conn.cursor().executemany("INSERT INTO customers VALUES (?, ?)", ROWS)
    with SnowflakeWarehouse("w", **snowflake_emulator.connect_arguments(
            snowflake_database, "PUBLIC")) as source:
        _check_engine(source)


def test_a_model_sql_ending_in_a_line_comment_still_runs():
    # Scenario: a model's SQL ends with `-- comment`: it is embedded on lines of its own, so
    # the comment cannot swallow the closing parenthesis.
    source = DuckDBWarehouse("w")
    source.connection.execute("CREATE TABLE customers (customer_id VARCHAR, name VARCHAR)")
    source.connection.executemany("INSERT INTO customers VALUES (?, ?)", ROWS)
    spec = AudienceSpec("c", ModelSpec(source="w", sql="SELECT * FROM customers -- all rows"),
                        "customer_id", segment="s",
                        where=_CONDITION.validate_python({"column": "name", "eq": "plain"}))
    with source:
        assert stream_audience(source, spec, now=NOW).read_all().num_rows == 1


@pytest.mark.parametrize("dialect", [DialectName.POSTGRES, DialectName.SNOWFLAKE,
                                     DialectName.BIGQUERY])
def test_duckdb_model_sql_translates_to_each_dialect(dialect: DialectName):
    # Scenario: the example's DuckDB model (date_diff, GROUP BY ALL) is written in each
    # warehouse's dialect; PostgreSQL gets the grouping spelled out (it lacks GROUP BY ALL).
    model = ("SELECT c.id, c.email, count(o.id) AS n, max(o.day) AS last_day, "
             "date_diff('day', max(o.day), DATE '2026-11-01') AS idle "
             "FROM customers AS c LEFT JOIN orders AS o USING (id) GROUP BY ALL")
    text = transpile(model, read=DialectName.DUCKDB, write=dialect)
    tree = sqlglot.parse_one(text, read=dialect.value)
    group = tree.args["group"]
    if dialect is DialectName.POSTGRES:
        assert [e.sql() for e in group.expressions] == ["c.id", "c.email"]
    assert "date_diff('day'" not in text


def test_sql_that_cannot_be_read_is_a_clear_error():
    # Scenario: a model's SQL sqlglot cannot parse: a SourceError, not a parser traceback.
    with pytest.raises(SqlTextError, match="cannot translate SQL from duckdb to postgres"):
        transpile("SELECT (((", read=DialectName.DUCKDB, write=DialectName.POSTGRES)


@pytest.mark.parametrize("dialect", list(DialectName))
def test_parameters_keep_their_order_past_ten(dialect: DialectName):
    # Scenario: a list of twelve values: the eleventh marker is not mistaken for the second
    # (`…_1` is a prefix of `…_10`), each marker gets its own value, in order.
    values = [f"v{i}" for i in range(12)]
    query = build_audience_query(_spec({"any": [{"column": "name", "in": values},
                                                {"column": "customer_id", "eq": "last"}]}),
                                 DIALECTS[dialect], now=NOW, columns=COLUMNS)
    assert query.params == (*values, "last")
    assert query.sql.count(DIALECTS[dialect].marker) == 13
