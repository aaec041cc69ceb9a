"""The segment condition compiler: SQL text, bound parameters and semantics, both dialects."""
from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest
from pydantic import TypeAdapter

from reconciler.manifests.conditions import Condition
from reconciler.sources.columns import Column, ColumnKind
from reconciler.sources.compiler import compile_condition, escape_like
from reconciler.sources.dialects import DUCKDB, POSTGRES, Dialect
from reconciler.sources.errors import ConditionError, UnknownColumnError

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
_CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)


def _compile(raw: dict[str, Any], dialect: Dialect = DUCKDB, **kwargs: Any) -> Any:
    return compile_condition(
        _CONDITION.validate_python(raw), segment="vip", dialect=dialect, now=NOW, **kwargs
    )


CASES: list[tuple[str, dict[str, Any], str, tuple[Any, ...]]] = [
    ("eq", {"column": "country", "eq": "BE"}, '"country" = ?', ("BE",)),
    ("ne keeps NULLs", {"column": "country", "ne": "BE"}, '"country" IS DISTINCT FROM ?', ("BE",)),
    ("gt", {"column": "ltv", "gt": 10}, '"ltv" > ?', (10,)),
    ("gte", {"column": "ltv", "gte": 1000.5}, '"ltv" >= ?', (1000.5,)),
    ("lt", {"column": "ltv", "lt": 3}, '"ltv" < ?', (3,)),
    ("lte", {"column": "day", "lte": dt.date(2026, 1, 1)}, '"day" <= ?', (dt.date(2026, 1, 1),)),
    ("in", {"column": "country", "in": ["BE", "NL"]}, '"country" IN (?, ?)', ("BE", "NL")),
    ("notIn", {"column": "country", "notIn": ["BE"]},
     'NOT COALESCE("country" IN (?), FALSE)', ("BE",)),
    ("contains escapes LIKE wildcards", {"column": "email", "contains": "50%_off"},
     "CAST(\"email\" AS TEXT) LIKE ? ESCAPE '\\'", ("%50\\%\\_off%",)),
    ("startsWith", {"column": "email", "startsWith": "a\\b"},
     "CAST(\"email\" AS TEXT) LIKE ? ESCAPE '\\'", ("a\\\\b%",)),
    ("endsWith", {"column": "email", "endsWith": "@x.be"},
     "CAST(\"email\" AS TEXT) LIKE ? ESCAPE '\\'", ("%@x.be",)),
    ("withinLast", {"column": "seen", "withinLast": "90d"},
     '"seen" >= ?', (NOW - dt.timedelta(days=90),)),
    ("olderThan", {"column": "seen", "olderThan": "2w"},
     '"seen" < ?', (NOW - dt.timedelta(weeks=2),)),
    ("isNull true", {"column": "phone", "isNull": True}, '"phone" IS NULL', ()),
    ("isNull false", {"column": "phone", "isNull": False}, 'NOT "phone" IS NULL', ()),
    ("all/any/not nest", {"all": [{"column": "a", "eq": 1},
                                  {"any": [{"column": "b", "eq": 2},
                                           {"not": {"column": "c", "eq": 3}}]}]},
     '("a" = ? AND ("b" = ? OR NOT COALESCE("c" = ?, FALSE)))', (1, 2, 3)),
    ("hostile column name is one quoted identifier",
     {"column": 'x" = 1 OR "1', "eq": "v"}, '"x"" = 1 OR ""1" = ?', ("v",)),
]


@pytest.mark.parametrize(("name", "raw", "sql", "params"), CASES, ids=[c[0] for c in CASES])
def test_compiles_each_operator(name: str, raw: dict[str, Any], sql: str, params: tuple[Any, ...]):
    # Scenario: each operator compiles to quoted identifiers and positional parameters.
    fragment = _compile(raw)
    assert fragment.sql == sql
    assert fragment.params == params
    postgres = _compile(raw, POSTGRES)
    assert postgres.sql == sql.replace("?", "%s")
    assert postgres.params == params


def test_hostile_values_are_parameters_never_sql_text() -> None:
    # Scenario: a value crafted to break out of the SQL string is bound, so it matches nothing.
    hostile = "x'; DROP TABLE people; --"
    fragment = _compile({"column": "name", "eq": hostile})
    assert hostile not in fragment.sql and fragment.params == (hostile,)
    conn = duckdb.connect()
    conn.execute("CREATE TABLE people (name VARCHAR)")
    conn.execute("INSERT INTO people VALUES ('x'), (?)", [hostile])
    rows = conn.execute(f"SELECT name FROM people WHERE {fragment.sql}", fragment.params)
    assert rows.fetchall() == [(hostile,)]
    assert conn.execute("SELECT count(*) FROM people").fetchone() == (2,)


SEMANTICS: list[tuple[str, dict[str, Any], list[int]]] = [
    ("eq skips NULL", {"column": "country", "eq": "BE"}, [1]),
    ("ne keeps NULL", {"column": "country", "ne": "BE"}, [2, 3, 4]),
    ("not eq keeps NULL", {"not": {"column": "country", "eq": "BE"}}, [2, 3, 4]),
    ("notIn keeps NULL", {"column": "country", "notIn": ["BE", "NL"]}, [3, 4]),
    ("not of a comparison", {"not": {"column": "ltv", "gte": 100}}, [2, 3, 4]),
    ("contains is literal", {"column": "note", "contains": "%"}, [2]),
    ("underscore is literal", {"column": "note", "startsWith": "a_"}, [3]),
    ("withinLast on a date", {"column": "day", "withinLast": "10d"}, [1, 2]),
    ("olderThan on a date", {"column": "day", "olderThan": "10d"}, [3]),
    ("contains on a number", {"column": "ltv", "contains": "50"}, [1]),
]


@pytest.mark.parametrize(("name", "raw", "ids"), SEMANTICS, ids=[c[0] for c in SEMANTICS])
def test_semantics_on_duckdb(name: str, raw: dict[str, Any], ids: list[int]) -> None:
    # Scenario: compiled fragments select the rows a manifest reader expects, NULLs included.
    conn = duckdb.connect()
    conn.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        "(1, 'BE', 150.0, 'plain', DATE '2026-11-20'), "
        "(2, 'NL', 20.0, '100%', DATE '2026-11-17'), "
        "(3, 'FR', NULL, 'a_b', DATE '2026-10-01'), "
        "(4, NULL, 5.0, 'ab', NULL)) AS v(id, country, ltv, note, day)"
    )
    columns = [Column(n, k, str(k)) for n, k in [
        ("id", ColumnKind.INTEGER), ("country", ColumnKind.STRING), ("ltv", ColumnKind.DECIMAL),
        ("note", ColumnKind.STRING), ("day", ColumnKind.DATE)]]
    fragment = _compile(raw, columns=columns)
    rows = conn.execute(f"SELECT id FROM t WHERE {fragment.sql} ORDER BY id", fragment.params)
    assert [r[0] for r in rows.fetchall()] == ids


def test_relative_dates_on_date_columns_bind_dates() -> None:
    # Scenario: withinLast on a DATE column compares with a date, not a timestamp.
    columns = [Column("day", ColumnKind.DATE, "DATE")]
    fragment = _compile({"column": "day", "withinLast": "1d"}, columns=columns)
    assert fragment.params == (dt.date(2026, 11, 26),)


def test_unknown_column_names_segment_and_column() -> None:
    # Scenario: a segment filters on a column its model lacks.
    columns = [Column("country", ColumnKind.STRING, "VARCHAR")]
    with pytest.raises(UnknownColumnError) as caught:
        _compile({"all": [{"column": "country", "eq": "BE"}, {"column": "ltvv", "gt": 1}]},
                 columns=columns)
    assert (caught.value.column, caught.value.segment) == ("ltvv", "vip")
    assert "segment 'vip'" in str(caught.value) and "'ltvv'" in str(caught.value)


def test_column_names_follow_the_dialects_case_rules() -> None:
    # Scenario: DuckDB matches names case-insensitively, PostgreSQL exactly (quoted names).
    columns = [Column("Country", ColumnKind.STRING, "text")]
    _compile({"column": "country", "eq": "BE"}, DUCKDB, columns=columns)
    with pytest.raises(UnknownColumnError):
        _compile({"column": "country", "eq": "BE"}, POSTGRES, columns=columns)


def test_relative_date_on_a_number_is_an_error() -> None:
    # Scenario: withinLast is used on a numeric column.
    columns = [Column("ltv", ColumnKind.DECIMAL, "DOUBLE")]
    with pytest.raises(ConditionError, match="'ltv'.*date or timestamp"):
        _compile({"column": "ltv", "withinLast": "3d"}, columns=columns)


def test_escape_like_doubles_the_escape_character() -> None:
    # Scenario: LIKE escaping of the escape character itself and both wildcards.
    assert escape_like("a\\%_") == "a\\\\\\%\\_"


def test_percent_in_postgres_literals_is_doubled() -> None:
    # Scenario: psycopg reads % as a marker, so raw SQL and literals double it; DuckDB's do not.
    assert POSTGRES.embed_raw("x LIKE 'a%'") == "x LIKE 'a%%'"
    assert DUCKDB.embed_raw("x LIKE 'a%'") == "x LIKE 'a%'"
    assert POSTGRES.quote_qualified('crm."people"') == '"crm"."""people"""'
    with pytest.raises(ValueError):
        DUCKDB.quote("a\x00b")


def test_percent_in_postgres_identifiers_is_doubled() -> None:
    # Scenario (found by tests/fuzz): a column named 'a%s' made psycopg count one marker too
    # many; quoted identifiers double '%' as raw SQL does.
    assert POSTGRES.quote("a%s") == '"a%%s"' and DUCKDB.quote("a%s") == '"a%s"'
    compiled = _compile({"column": "50%", "eq": "%s"}, POSTGRES)
    assert (compiled.sql, compiled.params) == ('"50%%" = %s', ("%s",))


LITERALS: list[tuple[str, ColumnKind, dict[str, Any], tuple[Any, ...] | str]] = [
    ("number on text", ColumnKind.STRING, {"column": "c", "gte": 800},
     r"gte compares a string column \(string\) with the number 800; expected text, in "
     r"quotes \('800'\); if the column should not be text, some of its values do not fit"),
    ("numbers in a list on text", ColumnKind.STRING, {"column": "c", "in": ["B", 1]},
     "with the number 1; expected text"),
    ("text on a text column", ColumnKind.STRING, {"column": "c", "in": ["1", "B"]}, ("1", "B")),
    ("whole number", ColumnKind.INTEGER, {"column": "c", "gte": 12}, (12,)),
    ("whole number in quotes", ColumnKind.INTEGER, {"column": "c", "gte": "12"},
     "an integer column.*the text '12'; expected a whole number, without quotes"),
    ("number in quotes", ColumnKind.DECIMAL, {"column": "c", "gte": "800"},
     "expected a number, without quotes"),
    ("date on a number", ColumnKind.DECIMAL, {"column": "c", "gte": dt.date(2026, 1, 1)},
     "with the date 2026-01-01; expected a number"),
    ("number on a date", ColumnKind.DATE, {"column": "c", "gte": 20260101},
     "with the number 20260101; expected a date"),
    ("fraction on an integer", ColumnKind.INTEGER, {"column": "c", "gte": 1.5},
     "expected a whole number"),
    ("word on a number", ColumnKind.DECIMAL, {"column": "c", "lt": "lots"}, "expected a number"),
    ("text on a boolean", ColumnKind.BOOLEAN, {"column": "c", "eq": "yes"},
     "expected true or false"),
    ("ISO date text", ColumnKind.DATE, {"column": "c", "gte": "2026-01-31"}, ("2026-01-31",)),
    ("bad date", ColumnKind.DATE, {"column": "c", "gte": "31/01/2026"}, "expected a date"),
    ("boolean on text", ColumnKind.STRING, {"column": "c", "ne": True}, "expected text"),
]


@pytest.mark.parametrize(("name", "kind", "raw", "expected"), LITERALS,
                         ids=[c[0] for c in LITERALS])
def test_literals_are_checked_against_the_column_kind(
    name: str, kind: ColumnKind, raw: dict[str, Any], expected: tuple[Any, ...] | str
) -> None:
    # Scenario: a condition's value must fit its column's type, never converted: a number on
    # a text column (what one bad cell makes of a number column) is an error.
    columns = [Column("c", kind, str(kind))]
    if isinstance(expected, str):
        with pytest.raises(ConditionError, match=f"segment 'vip', column 'c'.*{expected}"):
            _compile(raw, POSTGRES, columns=columns)
    else:
        assert _compile(raw, POSTGRES, columns=columns).params == expected


def test_errors_carry_where_in_the_condition_they_are() -> None:
    # Scenario: a bad value deep in a tree, one in a list and an unknown column each name the
    # path to it in the segment's `where`, for the plan to point at its file:line.
    columns = [Column("ltv", ColumnKind.STRING, "VARCHAR"), Column("c", ColumnKind.STRING, "x")]
    deep = {"all": [{"column": "c", "eq": "x"},
                    {"any": [{"not": {"column": "ltv", "gte": 800}}]}]}
    with pytest.raises(ConditionError) as caught:
        _compile(deep, columns=columns)
    assert caught.value.path == ("all", 1, "any", 0, "not", "gte")
    with pytest.raises(ConditionError) as caught:
        _compile({"column": "c", "in": ["a", 2]}, columns=columns)
    assert caught.value.path == ("in", 1)
    with pytest.raises(UnknownColumnError) as unknown:
        _compile({"all": [{"column": "c", "eq": "x"}, {"column": "zz", "eq": "y"}]},
                 columns=columns)
    assert unknown.value.path == ("all", 1, "column")
