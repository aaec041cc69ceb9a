"""SQL dialects: each warehouse's SQL, written by sqlglot from one expression tree.

Owns the differences between the SQL engines sources talk to (DuckDB, PostgreSQL, Snowflake,
BigQuery), so the condition compiler and the audience query build one engine-neutral sqlglot
tree and never spell SQL by hand. Values are never literals of that tree: each is a
placeholder, rendered as the driver's positional marker (`?`, or psycopg's `%s`) and bound
by the driver. Pure: no connections, no I/O.
"""
from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from reconciler.sources.errors import SourceError

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


class DialectName(enum.StrEnum):
    """A warehouse's SQL dialect; the values are sqlglot's dialect names."""

    DUCKDB = "duckdb"
    POSTGRES = "postgres"
    SNOWFLAKE = "snowflake"
    BIGQUERY = "bigquery"


class SqlTextError(SourceError):
    """A model's SQL cannot be read (or written) in a warehouse's dialect."""


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine reads names and parameters; sqlglot writes the rest."""

    name: DialectName
    marker: str = "?"
    """The positional parameter marker of the driver (`?`; `%s` for psycopg)."""
    case_sensitive_identifiers: bool = True
    """Whether two quoted names differing only in case are different columns."""
    folds_unquoted: bool = False
    """Whether plain table names are folded by the engine (Snowflake upper-cases them), so a
    manifest's `customers` must stay unquoted to find the table created as `customers`."""
    percent_is_special: bool = False
    """psycopg reads `%` in query text as a parameter marker: raw SQL must double it."""
    like_escape_clause: bool = True
    """Whether LIKE takes an ESCAPE clause (BigQuery's LIKE always escapes with `\\`)."""

    def identifier(self, name: str) -> exp.Identifier:
        """A quoted identifier node; NUL is refused, and for psycopg `%` is doubled (it reads
        `%` everywhere, inside quotes too)."""
        if not name or "\x00" in name:
            raise ValueError(f"{name!r} is not a usable SQL identifier")
        if self.name is DialectName.BIGQUERY and "`" in name:
            raise ValueError(f"{name!r}: BigQuery names cannot hold a backtick")
        return exp.to_identifier(self._escape_percent(name), quoted=True)

    def table(self, name: str) -> exp.Table:
        """`schema.table` as a table node: dots separate the parts of a table name."""
        parts = [self._table_part(part) for part in name.split(".")]
        catalog, db, this = ([None] * 3 + parts)[-3:]
        if len(parts) > 3:
            raise ValueError(f"{name!r} has more than three dotted parts")
        return exp.Table(this=this, db=db, catalog=catalog)

    def _table_part(self, part: str) -> exp.Identifier:
        if self.folds_unquoted and _PLAIN_NAME.fullmatch(part):
            return exp.to_identifier(part, quoted=False)
        return self.identifier(part)

    def quote(self, identifier: str) -> str:
        """A quoted identifier as text (embedded quote characters are escaped)."""
        return self.identifier(identifier).sql(dialect=self.name.value)

    def quote_qualified(self, name: str) -> str:
        """`schema.table` -> `"schema"."table"`."""
        return self.table(name).sql(dialect=self.name.value)

    def quote_literal(self, text: str) -> str:
        """A string literal, for the few places that cannot take a bound parameter (DDL)."""
        if "\x00" in text:
            raise ValueError("a SQL string literal cannot contain NUL")
        return self.embed_raw(exp.Literal.string(text).sql(dialect=self.name.value))

    def embed_raw(self, sql: str) -> str:
        """Raw SQL (a model's own query) made safe for the driver's parameter syntax."""
        return self._escape_percent(sql)

    def _escape_percent(self, text: str) -> str:
        return text.replace("%", "%%") if self.percent_is_special else text

    def same_column(self, left: str, right: str) -> bool:
        if self.case_sensitive_identifiers:
            return left == right
        return left.casefold() == right.casefold()

    def render(self, tree: exp.Expression, params: Mapping[str, Any],
               raw: Mapping[str, str] | None = None) -> tuple[str, tuple[Any, ...]]:
        """The tree as this dialect's SQL with positional markers, and the values in marker
        order. `params` maps each `Parameters.placeholder` name to its value; `raw` maps a
        `Parameters.stand_in` table name to the SQL text that replaces it (a model's query,
        kept as its author wrote it)."""
        text = tree.sql(dialect=self.name.value)
        names = sorted(params, key=len, reverse=True)
        found = re.compile("|".join(re.escape(n) for n in names)) if names else None
        ordered: list[Any] = []
        pieces: list[str] = []
        position = 0
        for match in found.finditer(text) if found else ():
            start, end = _marker_span(text, match.start(), match.end())
            pieces.append(text[position:start] + self.marker)
            ordered.append(params[match.group(0)])
            position = end
        text = "".join(pieces) + text[position:]
        for stand_in, sql in (raw or {}).items():
            table = exp.to_identifier(stand_in, quoted=True).sql(dialect=self.name.value)
            # On a line of its own: a trailing `-- comment` must not swallow the parenthesis.
            text = text.replace(table, f"({self.embed_raw(sql)}\n)")
        return text, tuple(ordered)


def _marker_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole placeholder around a name: `?`-less forms are `:n`, `@n`, `$n`, `%(n)s`."""
    if text[start - 2:start] == "%(" and text[end:end + 2] == ")s":
        return start - 2, end + 2
    return start - 1, end


class Parameters:
    """Placeholders for one query's values, named so that rendering can order them."""

    def __init__(self) -> None:
        self._token = secrets.token_hex(6)
        self.values: dict[str, Any] = {}

    def placeholder(self, value: Any) -> exp.Placeholder:
        name = f"rcp_{self._token}_{len(self.values)}"
        self.values[name] = value
        return exp.Placeholder(this=name)

    def stand_in(self) -> str:
        """A table name no model can spell, replaced by raw SQL at rendering."""
        return f"rcq_{self._token}"


def transpile(sql: str, *, read: DialectName, write: DialectName) -> str:
    """A model's SQL written for `read`'s engine, in `write`'s dialect (sqlglot).

    `GROUP BY ALL` becomes the list of the selected expressions that aggregate nothing
    (PostgreSQL before 19 lacks it)."""
    try:
        tree = sqlglot.parse_one(sql, read=read.value)
        for select in tree.find_all(exp.Select):
            group = select.args.get("group")
            if group is not None and group.args.get("all"):
                keys = [e.unalias() for e in select.expressions if not e.find(exp.AggFunc)]
                select.set("group", exp.Group(expressions=[k.copy() for k in keys]))
        return tree.sql(dialect=write.value, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise SqlTextError(f"cannot translate SQL from {read} to {write}: {exc}") from exc


DUCKDB = Dialect(DialectName.DUCKDB, case_sensitive_identifiers=False)
POSTGRES = Dialect(DialectName.POSTGRES, marker="%s", percent_is_special=True)
SNOWFLAKE = Dialect(DialectName.SNOWFLAKE, case_sensitive_identifiers=False,
                    folds_unquoted=True)
BIGQUERY = Dialect(DialectName.BIGQUERY, case_sensitive_identifiers=False,
                   like_escape_clause=False)
DIALECTS = {d.name: d for d in (DUCKDB, POSTGRES, SNOWFLAKE, BIGQUERY)}
