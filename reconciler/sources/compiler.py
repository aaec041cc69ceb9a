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

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.manifests.conditions import (
    COMPARISON_OPERATORS,
    LIST_OPERATORS,
    AllOf,
    AnyOf,
    ConditionPath,
    Not,
    Predicate,
    child_nodes,
    iter_predicate_paths,
)
from reconciler.manifests.literals import describe_literal, literal_mismatch
from reconciler.manifests.models import FieldType
from reconciler.manifests.values import parse_duration
from reconciler.sources.columns import Column, ColumnKind
from reconciler.sources.dialects import Dialect
from reconciler.sources.errors import ColumnOwner, ConditionError, UnknownColumnError

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
    columns: Mapping[str, Column] | None
    path: ConditionPath = ()
    """Where the predicate being compiled is, from the segment's `where`."""

    def error(self, message: str, column: str, *step: str | int) -> ConditionError:
        return ConditionError(message, segment=self.segment, column=column,
                              path=(*self.path, *step))


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
    operator or a value that does not fit the column's type (`withinLast` on a number, a
    text column compared with a number); both carry the predicate's path in the condition.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    known = None
    if columns is not None:
        for path, predicate in iter_predicate_paths(condition):
            check_columns([predicate.column], columns, owner_kind=ColumnOwner.SEGMENT,
                          owner=segment, dialect=dialect, path=(*path, "column"))
        known = {_key(c.name, dialect): c for c in columns}
    return _compile(condition, _Context(segment, dialect, now, known))


def check_columns(
    names: Sequence[str],
    columns: Sequence[Column],
    *,
    owner_kind: ColumnOwner,
    owner: str,
    dialect: Dialect,
    path: ConditionPath | None = None,
) -> None:
    """Raise `UnknownColumnError` for the first of `names` that is not among `columns`."""
    for name in names:
        if not any(dialect.same_column(name, c.name) for c in columns):
            raise UnknownColumnError(
                owner_kind=owner_kind, owner=owner, column=name, known=[c.name for c in columns],
                path=path,
            )


def _key(name: str, dialect: Dialect) -> str:
    return name if dialect.case_sensitive_identifiers else name.casefold()


def _compile(node: ConditionNode, ctx: _Context) -> SqlFragment:
    if isinstance(node, Predicate):
        return _predicate(node, dataclasses.replace(ctx, path=(*ctx.path, node.operator)))
    parts = [_compile(child, dataclasses.replace(ctx, path=ctx.path + step))
             for step, child in child_nodes(node)]
    if isinstance(node, Not):
        return SqlFragment(f"NOT COALESCE({parts[0].sql}, FALSE)", parts[0].params)
    joiner = " AND " if isinstance(node, AllOf) else " OR "
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
    """The predicate's value(s), checked against the column's type: never converted."""
    column = _column(predicate, ctx)
    kind = _FIELD_TYPES.get(column.kind) if column is not None else None
    listed = isinstance(predicate.value, list)
    for number, value in enumerate(predicate.value if listed else [predicate.value]):
        expected = literal_mismatch(value, kind) if kind is not None else None
        if expected is not None and column is not None:
            raise ctx.error(
                f"{predicate.operator} compares {_a(column.kind)} column "
                f"({column.native_type}) with {describe_literal(value)}; expected {expected}",
                predicate.column, *((number,) if listed else ()))
    return predicate.value


_FIELD_TYPES: dict[ColumnKind, FieldType] = {
    kind: FieldType(kind.value) for kind in ColumnKind if kind != ColumnKind.OTHER}


def _a(kind: ColumnKind | None) -> str:
    return f"an {kind}" if str(kind)[:1] in "aeiou" else f"a {kind}"


def _column(predicate: Predicate, ctx: _Context) -> Column | None:
    if ctx.columns is None:
        return None
    return ctx.columns.get(_key(predicate.column, ctx.dialect))


def _kind(predicate: Predicate, ctx: _Context) -> ColumnKind | None:
    column = _column(predicate, ctx)
    return column.kind if column is not None else None


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
        found = _column(p, ctx)
        kind = found.kind if found is not None else None
        if found is not None and kind not in (ColumnKind.DATE, ColumnKind.TIMESTAMP):
            raise ctx.error(f"{p.operator} needs a date or timestamp column, not "
                            f"{_a(kind)} column ({found.native_type})", p.column)
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
