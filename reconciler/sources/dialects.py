"""SQL dialects: how a warehouse spells identifiers, parameters and literals.

Owns the small differences between the SQL engines sources talk to, so the condition
compiler and the audience query stay engine-neutral. Adding Snowflake or BigQuery means one
more `Dialect` here (BigQuery quotes with backticks and binds `@name` parameters). Pure:
no connections, no I/O.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class DialectName(enum.StrEnum):
    DUCKDB = "duckdb"
    POSTGRES = "postgres"


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells the few things the compiler emits."""

    name: DialectName
    placeholder: str
    """The positional parameter marker of the driver (`?` for DuckDB, `%s` for psycopg)."""
    text_type: str = "VARCHAR"
    identifier_quote: str = '"'
    case_sensitive_identifiers: bool = True
    """Whether two quoted names differing only in case are different columns."""
    percent_is_special: bool = False
    """psycopg reads `%` in query text as a parameter marker: raw SQL must double it."""

    def quote(self, identifier: str) -> str:
        """A quoted identifier; embedded quote characters are doubled, NUL is refused (and
        for psycopg `%` is doubled: it reads `%` everywhere, inside quotes too)."""
        if not identifier or "\x00" in identifier:
            raise ValueError(f"{identifier!r} is not a usable SQL identifier")
        q = self.identifier_quote
        return self.embed_raw(f"{q}{identifier.replace(q, q + q)}{q}")

    def quote_qualified(self, name: str) -> str:
        """`schema.table` -> `"schema"."table"`: dots separate the parts of a table name."""
        return ".".join(self.quote(part) for part in name.split("."))

    def quote_literal(self, text: str) -> str:
        """A string literal, for the few places that cannot take a bound parameter (DDL)."""
        if "\x00" in text:
            raise ValueError("a SQL string literal cannot contain NUL")
        literal = "'" + text.replace("'", "''") + "'"
        return self.embed_raw(literal)

    def embed_raw(self, sql: str) -> str:
        """Raw SQL (a model's own query) made safe for the driver's parameter syntax."""
        return sql.replace("%", "%%") if self.percent_is_special else sql

    def same_column(self, left: str, right: str) -> bool:
        if self.case_sensitive_identifiers:
            return left == right
        return left.casefold() == right.casefold()


DUCKDB = Dialect(DialectName.DUCKDB, placeholder="?", case_sensitive_identifiers=False)
POSTGRES = Dialect(DialectName.POSTGRES, placeholder="%s", percent_is_special=True)
