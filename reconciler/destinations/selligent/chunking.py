"""Rows as Selligent takes them: string cells, in calls no bigger than the limits allow.

The Swagger types data rows as `string[][]`, so every cell is sent as text (None as "", which
the API stores as NULL [I]). `chunk_rows` streams rows into chunks of at most `max_rows` rows
and `max_bytes` of JSON, never holding more than one chunk; `send_chunks` sends them, up to
`max_in_flight` at a time, and yields the answers in order (`in_order`, which the client's
parallel page reads use too).
"""
from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

Row = list[str]
T = TypeVar("T")
R = TypeVar("R")


class RowTooLargeError(ValueError):
    """One row alone is over the byte limit of a call."""


def wire_value(value: Any) -> str:
    """One cell as the text Selligent parses for the field's type."""
    if type(value) is str:  # most cells: keys and text fields (a hot path)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | Decimal) and value == int(value):
        return str(int(value))
    return str(value)


# Text JSON writes as it is: printable ASCII but the quote and the backslash.
_PLAIN_TEXT = re.compile(r'[\x20\x21\x23-\x5b\x5d-\x7e]*')


def row_bytes(row: Row) -> int:
    """The row's size inside a JSON array body, its separating comma included."""
    if row and _PLAIN_TEXT.fullmatch("".join(row)):  # quotes, commas and brackets only
        return sum(map(len, row)) + 3 * len(row) + 2  # (a hot path: every row of a load)
    return len(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) + 1


def chunk_rows(
    rows: Iterable[Sequence[Any]], max_rows: int | Callable[[], int], max_bytes: int,
    header: Row | None = None
) -> Iterator[list[Row]]:
    """Chunks of wire rows; each chunk's JSON body (`header` first, if any) fits the limits.
    `max_rows` may be a function, asked at each chunk's start (a size adapted as calls go)."""
    rows_now = max_rows if callable(max_rows) else (lambda: max_rows)
    base = 2 + (row_bytes(header) if header else 0)
    chunk: list[Row] = []
    size = base
    cap = rows_now()
    for raw in rows:
        row = [wire_value(v) for v in raw]
        length = row_bytes(row)
        if base + length > max_bytes:
            raise RowTooLargeError(f"one row is {length} bytes, over the {max_bytes}-byte limit")
        if chunk and (len(chunk) >= cap or size + length > max_bytes):
            yield chunk
            chunk, size, cap = [], base, rows_now()
        chunk.append(row)
        size += length
    if chunk:
        yield chunk


def in_order(items: Iterable[T], call: Callable[[T], R], max_in_flight: int) -> Iterator[R]:
    """`call(item)` for each item, answers in the items' order; at most `max_in_flight`
    calls at once and as many answers in memory. The first failure cancels the calls not yet
    started."""
    if max_in_flight <= 1:
        for item in items:
            yield call(item)
        return
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max_workers=max_in_flight) as pool:
        try:
            for item in items:
                if len(pending) >= max_in_flight:
                    yield pending.popleft().result()
                pending.append(pool.submit(call, item))
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def send_chunks(
    chunks: Iterable[list[Row]], send: Callable[[list[Row]], Any], max_in_flight: int
) -> Iterator[tuple[int, Any]]:
    """(first row index, answer) per chunk, in order; at most `max_in_flight` calls at once
    and as many chunks in memory. The first failure cancels the calls not yet started."""
    def at_offsets() -> Iterator[tuple[int, list[Row]]]:
        offset = 0
        for chunk in chunks:
            yield offset, chunk
            offset += len(chunk)

    return in_order(at_offsets(), lambda item: (item[0], send(item[1])), max_in_flight)
