"""A condition's literal value against the type of the column it is compared with.

Owns the one rule for `{column: ltv, gte: 800}`: numbers are compared with number columns,
text with text columns, dates (or ISO date text) with date and timestamp columns, true and
false with boolean columns. Anything else is an error for the user to fix, never a silent
conversion: a text column compared with 800 compares text ('9' comes after '800'), which is
what one bad cell in a CSV file does to a number column. Used by `sources/` against the
column types a warehouse reports at plan time, and by `validate` against the types a Source
declares. Pure.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.manifests.models import FieldType

_MAKE_IT_TYPED = ("declare the column's type in the Source's `columns` (a value that does not "
                  "fit is then a bad row, counted and left out) or CAST it in the model")


def describe_literal(value: Any) -> str:
    """A condition value as a reader wrote it: `the number 800`, `the text '800'`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return f"the text {str(value)!r}"


def literal_mismatch(value: Any, kind: FieldType, *, declared: bool = False) -> str | None:
    """None when `value` may be compared with a column of `kind`; else what is expected.
    `declared`: the type is the one the Source declares (not one a warehouse reported)."""
    if kind is FieldType.STRING:
        return None if isinstance(value, str) else _text_expected(value, declared)
    if kind is FieldType.INTEGER:
        return None if _is_whole_number(value) else _number_expected(value, "a whole number")
    if kind is FieldType.DECIMAL:
        return None if _is_number(value) else _number_expected(value, "a number")
    if kind is FieldType.BOOLEAN:
        return None if isinstance(value, bool) else "true or false"
    if kind is FieldType.DATE:
        return None if _is_date(value) else "a date such as 2026-01-31"
    return None if _is_date(value) else "a date or timestamp such as 2026-01-31T08:00:00"


def _text_expected(value: Any, declared: bool) -> str:
    quoted = f"'{describe_literal(value).rsplit(' ', 1)[-1]}'"
    if declared:
        return f"text, in quotes ({quoted})"
    return (f"text, in quotes ({quoted}); if the column should not be text, some of its "
            f"values do not fit its type: {_MAKE_IT_TYPED}")


def _number_expected(value: Any, what: str) -> str:
    return f"{what}, without quotes" if isinstance(value, str) else what


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole_number(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return _is_number(value)


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
