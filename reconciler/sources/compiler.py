"""Segment conditions compiled to a SQL WHERE fragment with bound parameters.

Owns the meaning of each condition operator in SQL. Values are never written into the SQL
text: every one becomes a positional parameter of the dialect; column names are quoted
identifiers. Pure: no connection, no clock (relative dates are computed against the `now`
the caller passes), no I/O.

Semantics are two-valued, as a reader of a manifest expects: a predicate on a NULL column is
false (except `isNull`), `not` is the exact complement (it keeps rows whose column is NULL),
and `ne` / `notIn` are the complements of `eq` / `in`. `contains` / `startsWith` /
`endsWith` are case-sensitive and match `%` and `_` in the value literally.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.manifests.conditions import (
    COMPARISON_OPERATORS,
    LIST_OPERATORS,
    AllOf,
    AnyOf,
    Not,
    Predicate,
    iter_predicates,
)
from reconciler.manifests.values import parse_duration
from reconciler.sources.columns import Column, ColumnKind
from reconciler.sources.dialects import Dialect
from reconciler.sources.errors import ColumnOwner, ConditionError, UnknownColumnError
from reconciler.sources.literals import check_literal

ConditionNode = AllOf | AnyOf | Not | Predicate
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class SqlFragment:
    """SQL text with its positional parameters, in order."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class _Context:
    segment: str
    dialect: Dialect
    now: dt.datetime
    kinds: Mapping[str, ColumnKind] | None


def compile_condition(
    condition: ConditionNode,
    *,
    segment: str,
    dialect: Dialect,
    now: dt.datetime,
    columns: Sequence[Column] | None = None,
) -> SqlFragment:
    """Compile a segment's condition tree; `columns`, when known, are checked and typed.

    Raises `UnknownColumnError` for a column the model lacks and `ConditionError` for an
    operator that does not fit the column's type (e.g. `withinLast` on a number).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    kinds = None
    if columns is not None:
        check_columns(
            [p.column for p in iter_predicates(condition)],
            columns,
            owner_kind=ColumnOwner.SEGMENT,
            owner=segment,
            dialect=dialect,
        )
        kinds = {_key(c.name, dialect): c.kind for c in columns}
    return _compile(condition, _Context(segment, dialect, now, kinds))


def check_columns(
    names: Sequence[str],
    columns: Sequence[Column],
    *,
    owner_kind: ColumnOwner,
    owner: str,
    dialect: Dialect,
) -> None:
    """Raise `UnknownColumnError` for the first of `names` that is not among `columns`."""
    for name in names:
        if not any(dialect.same_column(name, c.name) for c in columns):
            raise UnknownColumnError(
                owner_kind=owner_kind, owner=owner, column=name, known=[c.name for c in columns]
            )


def _key(name: str, dialect: Dialect) -> str:
    return name if dialect.case_sensitive_identifiers else name.casefold()


def _compile(node: ConditionNode, ctx: _Context) -> SqlFragment:
    if isinstance(node, Predicate):
        return _predicate(node, ctx)
    if isinstance(node, Not):
        inner = _compile(node.not_, ctx)
        return SqlFragment(f"NOT COALESCE({inner.sql}, FALSE)", inner.params)
    children = node.all if isinstance(node, AllOf) else node.any
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    parts = [_compile(child, ctx) for child in children]
    return SqlFragment(
        "(" + joiner.join(p.sql for p in parts) + ")",
        tuple(param for p in parts for param in p.params),
    )


def _predicate(predicate: Predicate, ctx: _Context) -> SqlFragment:
    build = _BUILDERS[predicate.operator]
    column = ctx.dialect.quote(predicate.column)
    value = predicate.value
    if predicate.operator in COMPARISON_OPERATORS + LIST_OPERATORS:
        value = _literals(predicate, ctx)
    return build(column, value, predicate, ctx)


def _literals(predicate: Predicate, ctx: _Context) -> Any:
    """The predicate's value(s), checked against (and bound for) the column's kind."""
    kind = _kind(predicate, ctx)
    values = predicate.value if isinstance(predicate.value, list) else [predicate.value]
    bound = []
    for value in values:
        literal, expected = check_literal(value, kind)
        if expected is not None:
            raise ConditionError(
                f"{predicate.operator} compares a {kind} column with {value!r}; "
                f"expected {expected}",
                segment=ctx.segment,
                column=predicate.column,
            )
        bound.append(literal)
    return bound if isinstance(predicate.value, list) else bound[0]


def _kind(predicate: Predicate, ctx: _Context) -> ColumnKind | None:
    if ctx.kinds is None:
        return None
    return ctx.kinds.get(_key(predicate.column, ctx.dialect))


def _comparison(sql_operator: str) -> Callable[..., SqlFragment]:
    def build(column: str, value: Any, _p: Predicate, ctx: _Context) -> SqlFragment:
        return SqlFragment(f"{column} {sql_operator} {ctx.dialect.placeholder}", (value,))

    return build


def _not_equal(column: str, value: Any, _p: Predicate, ctx: _Context) -> SqlFragment:
    return SqlFragment(f"{column} IS DISTINCT FROM {ctx.dialect.placeholder}", (value,))


def _in_list(column: str, values: list[Any], _p: Predicate, ctx: _Context) -> SqlFragment:
    markers = ", ".join(ctx.dialect.placeholder for _ in values)
    return SqlFragment(f"{column} IN ({markers})", tuple(values))


def _not_in_list(column: str, values: list[Any], p: Predicate, ctx: _Context) -> SqlFragment:
    inner = _in_list(column, values, p, ctx)
    return SqlFragment(f"NOT COALESCE({inner.sql}, FALSE)", inner.params)


def escape_like(value: str) -> str:
    """Make `%`, `_` and the escape character itself match literally in a LIKE pattern."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _like(prefix: str, suffix: str) -> Callable[..., SqlFragment]:
    def build(column: str, value: str, p: Predicate, ctx: _Context) -> SqlFragment:
        if _kind(p, ctx) != ColumnKind.STRING:
            column = f"CAST({column} AS {ctx.dialect.text_type})"
        pattern = prefix + escape_like(value) + suffix
        escape = ctx.dialect.quote_literal(LIKE_ESCAPE)
        return SqlFragment(f"{column} LIKE {ctx.dialect.placeholder} ESCAPE {escape}", (pattern,))

    return build


def _relative(sql_operator: str) -> Callable[..., SqlFragment]:
    def build(column: str, value: str, p: Predicate, ctx: _Context) -> SqlFragment:
        kind = _kind(p, ctx)
        if kind not in (None, ColumnKind.DATE, ColumnKind.TIMESTAMP):
            raise ConditionError(
                f"{p.operator} needs a date or timestamp column, not a {kind} column",
                segment=ctx.segment,
                column=p.column,
            )
        boundary: dt.datetime | dt.date = ctx.now - parse_duration(value)
        if kind == ColumnKind.DATE:
            boundary = ctx.now.astimezone(dt.UTC).date() - parse_duration(value)
        return SqlFragment(f"{column} {sql_operator} {ctx.dialect.placeholder}", (boundary,))

    return build


def _is_null(column: str, value: bool, _p: Predicate, _ctx: _Context) -> SqlFragment:
    return SqlFragment(f"{column} IS NULL" if value else f"{column} IS NOT NULL")


_BUILDERS: dict[str, Callable[..., SqlFragment]] = {
    "eq": _comparison("="),
    "ne": _not_equal,
    "gt": _comparison(">"),
    "gte": _comparison(">="),
    "lt": _comparison("<"),
    "lte": _comparison("<="),
    "in": _in_list,
    "notIn": _not_in_list,
    "contains": _like("%", "%"),
    "startsWith": _like("", "%"),
    "endsWith": _like("%", ""),
    "withinLast": _relative(">="),
    "olderThan": _relative("<"),
    "isNull": _is_null,
}
