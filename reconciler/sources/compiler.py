"""Segment conditions compiled to a SQL WHERE fragment with bound parameters.

Owns the meaning of each condition operator in SQL, as a sqlglot tree that each warehouse's
dialect writes (`dialects.py`). Values are never written into the SQL text: every one becomes
a placeholder, bound by the driver; column names are quoted identifiers. Pure: no
connection, no clock (relative dates are computed against the `now` the caller passes), no
I/O.

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

from sqlglot import exp

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
from reconciler.sources.dialects import Dialect, Parameters
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
    params: Parameters
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
    """Compile a segment's condition tree to the dialect's SQL text and its parameters.

    See `condition_tree`, which this renders.
    """
    params = Parameters()
    tree = condition_tree(condition, segment=segment, dialect=dialect, now=now,
                          columns=columns, params=params)
    return SqlFragment(*dialect.render(tree, params.values))


def condition_tree(
    condition: ConditionNode,
    *,
    segment: str,
    dialect: Dialect,
    now: dt.datetime,
    params: Parameters,
    columns: Sequence[Column] | None = None,
) -> exp.Expression:
    """A segment's condition as a sqlglot tree whose values are `params`' placeholders;
    `columns`, when known, are checked and typed (and name the columns as the model does).

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
    return _compile(condition, _Context(segment, dialect, now, known, params))


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


def _compile(node: ConditionNode, ctx: _Context) -> exp.Expression:
    if isinstance(node, Predicate):
        return _predicate(node, dataclasses.replace(ctx, path=(*ctx.path, node.operator)))
    parts = [_compile(child, dataclasses.replace(ctx, path=ctx.path + step))
             for step, child in child_nodes(node)]
    if isinstance(node, Not):
        return _not(parts[0])
    joined = exp.and_(*parts) if isinstance(node, AllOf) else exp.or_(*parts)
    return exp.paren(joined, copy=False)


def _not(condition: exp.Expression) -> exp.Expression:
    """The exact complement: a NULL (unknown) condition counts as false, so NOT keeps it."""
    return exp.Not(this=exp.Coalesce(this=condition, expressions=[exp.false()]))


def _predicate(predicate: Predicate, ctx: _Context) -> exp.Expression:
    build = _BUILDERS[predicate.operator]
    found = _column(predicate, ctx)
    column = exp.column(ctx.dialect.identifier(found.name if found else predicate.column))
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


_Builder = Callable[[exp.Column, Any, Predicate, _Context], exp.Expression]


def _comparison(node: Callable[..., exp.Expression]) -> _Builder:
    def build(column: exp.Column, value: Any, _p: Predicate, ctx: _Context) -> exp.Expression:
        return node(this=column, expression=ctx.params.placeholder(value))

    return build


def _in_list(column: exp.Column, values: list[Any], _p: Predicate,
             ctx: _Context) -> exp.Expression:
    return exp.In(this=column, expressions=[ctx.params.placeholder(v) for v in values])


def _not_in_list(column: exp.Column, values: list[Any], p: Predicate,
                 ctx: _Context) -> exp.Expression:
    return _not(_in_list(column, values, p, ctx))


def escape_like(value: str) -> str:
    """Make `%`, `_` and the escape character itself match literally in a LIKE pattern."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _like(prefix: str, suffix: str) -> _Builder:
    def build(column: exp.Column, value: str, p: Predicate, ctx: _Context) -> exp.Expression:
        text: exp.Expression = column
        if _kind(p, ctx) != ColumnKind.STRING:
            text = exp.Cast(this=column, to=exp.DataType.build("text"))
        pattern = ctx.params.placeholder(prefix + escape_like(value) + suffix)
        like = exp.Like(this=text, expression=pattern)
        if not ctx.dialect.like_escape_clause:  # the engine escapes with `\` by itself
            return like
        return exp.Escape(this=like, expression=exp.Literal.string(LIKE_ESCAPE))

    return build


def _relative(node: Callable[..., exp.Expression]) -> _Builder:
    def build(column: exp.Column, value: str, p: Predicate, ctx: _Context) -> exp.Expression:
        found = _column(p, ctx)
        kind = found.kind if found is not None else None
        if found is not None and kind not in (ColumnKind.DATE, ColumnKind.TIMESTAMP):
            raise ctx.error(f"{p.operator} needs a date or timestamp column, not "
                            f"{_a(kind)} column ({found.native_type})", p.column)
        boundary: dt.datetime | dt.date = ctx.now - parse_duration(value)
        if kind == ColumnKind.DATE:
            boundary = ctx.now.astimezone(dt.UTC).date() - parse_duration(value)
        return node(this=column, expression=ctx.params.placeholder(boundary))

    return build


def _is_null(column: exp.Column, value: bool, _p: Predicate, _ctx: _Context) -> exp.Expression:
    is_null = exp.Is(this=column, expression=exp.null())
    return is_null if value else exp.Not(this=is_null)


_BUILDERS: dict[str, _Builder] = {
    "eq": _comparison(exp.EQ),
    "ne": _comparison(exp.NullSafeNEQ),
    "gt": _comparison(exp.GT),
    "gte": _comparison(exp.GTE),
    "lt": _comparison(exp.LT),
    "lte": _comparison(exp.LTE),
    "in": _in_list,
    "notIn": _not_in_list,
    "contains": _like("%", "%"),
    "startsWith": _like("", "%"),
    "endsWith": _like("%", ""),
    "withinLast": _relative(exp.GTE),
    "olderThan": _relative(exp.LT),
    "isNull": _is_null,
}
