"""A condition's literal values checked against the kind of the column they are compared with.

Owns the early, readable error for `{column: ltv, gte: lots}` (instead of a warehouse's
cast error at plan time), and the one coercion engines disagree on: a number compared with a
text column is bound as text (PostgreSQL has no `text = integer`). Pure: no I/O.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from reconciler.sources.columns import ColumnKind


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


_ACCEPTS: dict[ColumnKind, tuple[Callable[[Any], bool], str]] = {
    ColumnKind.INTEGER: (_is_integer, "a whole number"),
    ColumnKind.DECIMAL: (_is_number, "a number"),
    ColumnKind.BOOLEAN: (lambda v: isinstance(v, bool), "true or false"),
    ColumnKind.DATE: (_is_date, "a date such as 2026-01-31"),
    ColumnKind.TIMESTAMP: (_is_date, "a date or timestamp such as 2026-01-31T08:00:00"),
    ColumnKind.STRING: (lambda v: not isinstance(v, bool | dt.date), "text"),
}


def check_literal(value: Any, kind: ColumnKind | None) -> tuple[Any, str | None]:
    """(the value to bind, None) when it fits the column's kind, else (value, what fits)."""
    if kind is None or kind not in _ACCEPTS:
        return value, None
    accepts, expected = _ACCEPTS[kind]
    if not accepts(value):
        return value, expected
    if kind == ColumnKind.STRING and not isinstance(value, str):
        return str(value), None
    return value, None
