"""data/search over a list or a segment: field references, filters, order, skip/take.

Also evaluates dynamic segments, whose definition is a list of the same filters.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from reconciler.sandbox.selligent import inferred
from reconciler.sandbox.selligent.inferred import key_of
from reconciler.sandbox.selligent.problem import ApiProblem
from reconciler.sandbox.selligent.rows import convert, resolve_field
from reconciler.sandbox.selligent.store import Field, ListTable, Segment

OPERATORS = (
    "EqualTo", "NotEqualTo", "GreaterThan", "GreaterThanOrEqualTo", "LessThan",
    "LessThanOrEqualTo", "Like", "IsNull", "IsNotNull", "IsEmpty", "IsNotEmpty",
)
RECORD_ID = "SYSTEM.SELLIGENTID"
_ID_FIELD = Field(RECORD_ID, "Long")

Record = tuple[int, dict[str, Any]]


def _column(table: ListTable, name: str) -> Field:
    if name.upper() == RECORD_ID:
        return _ID_FIELD
    if "." in name and not name.upper().startswith("MASTER."):
        raise ApiProblem.invalid(f"Unknown scope in '{name}': the list has no relations.")
    return resolve_field(table, name)


def _value(record: Record, column: Field) -> Any:
    return record[0] if column is _ID_FIELD else record[1].get(column.name)


def _matches(record: Record, column: Field, operator: str, raw: str | None) -> bool:
    value = _value(record, column)
    if operator in ("IsNull", "IsNotNull"):
        return (value is None) == (operator == "IsNull")
    if operator in ("IsEmpty", "IsNotEmpty"):
        return (value in (None, "")) == (operator == "IsEmpty")
    if operator == "Like":
        pattern = "".join(inferred.LIKE_WILDCARDS.get(c, re.escape(c)) for c in raw or "")
        return value is not None and re.fullmatch(pattern, str(value), re.IGNORECASE) is not None
    wanted, problem = convert(column, raw)
    if problem is not None:
        raise ApiProblem.invalid(f"Filter value for {column.name}: {problem[0]}.")
    if value is None or wanted is None:
        return operator == "NotEqualTo" and value != wanted
    if isinstance(value, str):
        value, wanted = value.casefold(), str(wanted).casefold()
    return {
        "EqualTo": value == wanted, "NotEqualTo": value != wanted,
        "GreaterThan": value > wanted, "GreaterThanOrEqualTo": value >= wanted,
        "LessThan": value < wanted, "LessThanOrEqualTo": value <= wanted,
    }[operator]


def apply_filters(
    table: ListTable, records: Iterable[Record], filters: list[dict[str, Any]]
) -> list[Record]:
    """The records matching every filter (filters are ANDed)."""
    checks = []
    for item in filters or []:
        if not isinstance(item, dict):
            raise ApiProblem.invalid("Each filter must be an object.")
        operator = item.get("operator")
        if operator not in OPERATORS:
            raise ApiProblem.invalid(f"Unknown filter operator '{operator}'.")
        column = _column(table, str(item.get("field_name")))
        checks.append((column, operator, item.get("field_value")))
    return [r for r in records if all(_matches(r, c, o, v) for c, o, v in checks)]


def segment_records(table: ListTable, segment: Segment) -> list[Record]:
    """The records of a segment: its references (static) or its filters (dynamic)."""
    if segment.type == "Dynamic":
        return apply_filters(table, table.records.items(), segment.filters)
    return [(rid, table.records[rid]) for rid in sorted(segment.members) if rid in table.records]


def search(
    table: ListTable, records: list[Record], request: Any, max_take: int | None = None
) -> dict[str, Any]:
    """The SearchDataResponseModel for a search request over `records` (a page of at most
    `max_take` records on a tenant capping pages)."""
    if not isinstance(request, dict) or not request.get("fields"):
        raise ApiProblem.invalid("The request needs a non-empty 'fields' array.")
    names = [str(n) for n in request["fields"]]
    columns = [_column(table, n) for n in names]
    filters = request.get("filters") or []
    order = _column(table, str(request.get("order_by") or inferred.DEFAULT_ORDER))
    direction = str(request.get("order_by_direction") or "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise ApiProblem.invalid(f"Unknown order_by_direction '{direction}'.")

    def ordered() -> list[Record]:
        found = apply_filters(table, records, filters)
        found.sort(key=lambda r: _sort_key(_value(r, order)), reverse=direction == "DESC")
        return found

    whole_list = len(records) == len(table.records)
    if whole_list and filters:
        records = _indexed(table, records, filters)
    found = (table.ordered(order.name, direction == "DESC", ordered)
             if whole_list and not filters else ordered())
    page = paginate(found, request.get("skip"), request.get("take"), max_take)
    data = [[_value(r, c) for c in columns] for r in page]
    return {"fields": names, "data": data, "result_code": "Succeeded", "errors": []}


def _indexed(table: ListTable, records: list[Record],
             filters: list[dict[str, Any]]) -> list[Record]:
    """The candidates of a whole-list search with an EqualTo on a text field, from the
    table's index of that field (`ListTable.index`: trimmed, case-folded, so a superset of
    the exact matches, which `apply_filters` then keeps): a lookup by key answers as fast as
    a server's index would, not by a scan of every record. Other searches keep `records`."""
    for item in filters:
        if not isinstance(item, dict) or item.get("operator") != "EqualTo":
            continue
        column = _column(table, str(item.get("field_name")))
        if column is _ID_FIELD or column.data_type != "Text" or item.get("field_value") is None:
            continue
        wanted, problem = convert(column, item.get("field_value"))
        if problem is not None or wanted is None:
            continue
        ids = table.index((column.name,)).get((key_of(wanted),), [])
        return [(rid, table.records[rid]) for rid in ids]
    return records


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value.casefold()) if isinstance(value, str) else (1, value)


def paginate(items: list[Any], skip: Any, take: Any, max_take: int | None = None) -> list[Any]:
    """skip/take paging; no take returns everything from skip on. A tenant capping pages at
    `max_take` silently answers at most that many, whatever the take (inferred.py)."""
    try:
        start = int(skip or 0)
        count = inferred.DEFAULT_TAKE if take in (None, "") else int(take)
    except (TypeError, ValueError) as exc:
        raise ApiProblem.invalid("skip and take must be integers.") from exc
    if start < 0 or (count is not None and count < 0):
        raise ApiProblem.invalid("skip and take must not be negative.")
    if max_take is not None:
        count = max_take if count is None else min(count, max_take)
    return items[start:] if count is None else items[start : start + count]
