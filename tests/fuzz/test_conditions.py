"""Generated segment conditions with literals and column names that look like SQL: bound as
parameters, quoted as identifiers, or refused; never spliced into the SQL text.

Three properties over random condition trees (all / any / not over text predicates):
- the SQL text does not depend on the literals (each one is a parameter), in both dialects;
- for PostgreSQL, psycopg's `%` rule holds: `%s` markers exactly as many as the parameters;
- run on DuckDB against rows that hold the very literals, the rows kept are the ones a plain
  Python reading of the condition keeps (a literal that escaped its quoting would differ).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import duckdb
from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from reconciler.errors import ReconcilerError
from reconciler.manifests.conditions import Condition
from reconciler.sources.columns import Column, ColumnKind
from reconciler.sources.compiler import compile_condition
from reconciler.sources.dialects import DUCKDB, POSTGRES, Dialect
from tests.fuzz.limits import fuzz_settings

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)
FUZZ = fuzz_settings(max_examples=150)

HOSTILE = [
    "'; DROP TABLE people; --", "' OR '1'='1", '" OR "1"="1', "x'); DELETE FROM people; --",
    "../../etc/passwd", "..\\..\\boot.ini", "%s", "%%s", "%(name)s", "%", "%%", "_", "\\", "\\%",
    "{}", "{0}", "?", "$1", ":name", "@p", "/* x */", "--", ";", "\x00", "a\nb", "😀", "é", "",
    " ", "NULL", "null",
]
LITERALS = st.sampled_from(HOSTILE) | st.text(max_size=8)
# Column names: the table's own, and names a model's SQL could give a column.
COLUMNS = ["name", 'x" = 1 OR "1', "a%s", "50%", "../../etc/passwd", "{}", "?", "sé lect"]
TEXT_OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "startsWith", "endsWith"]


@st.composite
def predicates(draw: st.DrawFn) -> dict[str, Any]:
    column = draw(st.sampled_from(COLUMNS))
    operator = draw(st.sampled_from([*TEXT_OPERATORS, "in", "notIn", "isNull"]))
    if operator in ("in", "notIn"):
        return {"column": column, operator: draw(st.lists(LITERALS, min_size=1, max_size=3))}
    if operator == "isNull":
        return {"column": column, operator: draw(st.booleans())}
    return {"column": column, operator: draw(LITERALS)}


CONDITIONS = st.recursive(
    predicates(),
    lambda children: st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c})
    | st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c})
    | children.map(lambda c: {"not": c}),
    max_leaves=6,
)
ROWS = st.lists(st.none() | LITERALS | st.text(max_size=6), min_size=1, max_size=8)


def neutral(node: Any) -> Any:
    """The same condition with every text literal replaced by 'v'."""
    if isinstance(node, dict):
        return {k: (v if k == "column" else neutral(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [neutral(v) for v in node]
    return "v" if isinstance(node, str) else node


def holds(node: dict[str, Any], row: dict[str, str | None]) -> bool:
    """The condition on one row, read as the compiler's docstring says (two-valued)."""
    if "all" in node:
        return all(holds(child, row) for child in node["all"])
    if "any" in node:
        return any(holds(child, row) for child in node["any"])
    if "not" in node:
        return not holds(node["not"], row)
    value = row[node["column"].casefold()]
    [(operator, literal)] = [(k, v) for k, v in node.items() if k != "column"]
    if operator == "isNull":
        return (value is None) is literal
    if operator in COMPLEMENTS:  # ne and notIn keep what eq and in leave, NULLs included
        return not holds({"column": node["column"], COMPLEMENTS[operator]: literal}, row)
    return value is not None and bool(TESTS[operator](value, literal))


COMPLEMENTS = {"ne": "eq", "notIn": "in"}
TESTS: dict[str, Any] = {
    "eq": lambda v, x: v == x, "gt": lambda v, x: v > x, "gte": lambda v, x: v >= x,
    "lt": lambda v, x: v < x, "lte": lambda v, x: v <= x, "in": lambda v, x: v in x,
    "contains": lambda v, x: x in v, "startsWith": lambda v, x: v.startswith(x),
    "endsWith": lambda v, x: v.endswith(x),
}


def _compile(raw: dict[str, Any], dialect: Dialect, columns: list[Column] | None) -> Any:
    return compile_condition(CONDITION.validate_python(raw), segment="fuzz", dialect=dialect,
                             now=NOW, columns=columns)


@FUZZ
@given(raw=CONDITIONS)
def test_literals_never_change_the_sql_text(raw: dict[str, Any]) -> None:
    # Scenario: SQL-looking literals ('; DROP TABLE …, %s, {}, ?, $1) compile to the same SQL
    # text as harmless ones, in both dialects: each is a bound parameter.
    for dialect in (DUCKDB, POSTGRES):
        compiled = _compile(raw, dialect, None)
        assert compiled.sql == _compile(neutral(raw), dialect, None).sql
        if dialect is POSTGRES:  # psycopg reads every % of the text: only %% and %s
            assert re.sub("%%|%s", "", compiled.sql).count("%") == 0
            assert re.sub("%%", "", compiled.sql).count("%s") == len(compiled.params)
        else:
            assert all(isinstance(p, str) for p in compiled.params)


@FUZZ
@given(raw=CONDITIONS, values=ROWS)
def test_conditions_keep_the_rows_python_keeps_on_duckdb(raw: dict[str, Any],
                                                         values: list[str | None]) -> None:
    # Scenario: rows holding the hostile literals themselves are filtered exactly as a reader
    # of the manifest expects: no literal or column name escapes its quoting.
    conn = duckdb.connect()
    names = list(COLUMNS)
    conn.execute("CREATE TABLE people (row_id INTEGER, "
                 + ", ".join(f"{DUCKDB.quote(n)} VARCHAR" for n in names) + ")")
    rows = [{n.casefold(): values[(i + j) % len(values)] for j, n in enumerate(names)}
            for i in range(len(values))]
    conn.executemany("INSERT INTO people VALUES (?" + ", ?" * len(names) + ")",
                     [[i, *row.values()] for i, row in enumerate(rows)])
    columns = [Column(n, ColumnKind.STRING, "VARCHAR") for n in names]
    try:
        compiled = _compile(raw, DUCKDB, columns)
    except ReconcilerError as exc:  # e.g. a literal unfit for the column: located, refused
        event(f"refused: {type(exc).__name__}")
        return
    kept = [r[0] for r in conn.execute(
        f"SELECT row_id FROM people WHERE {compiled.sql} ORDER BY 1", compiled.params).fetchall()]
    assert kept == [i for i, row in enumerate(rows) if holds(raw, row)]
    assert conn.execute("SELECT count(*) FROM people").fetchall() == [(len(rows),)]
    event("kept some rows" if kept else "kept no row")
