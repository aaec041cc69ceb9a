"""Streaming change-set rows out of the planner's DuckDB tables, batch by batch.

Writers send what the plan computed without loading a whole change set into Python: rows come
out of DuckDB `batch_rows` at a time, with values made JSON/CSV-friendly (dates as ISO text).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb

DEFAULT_BATCH_ROWS = 10_000
_EXPORTS = itertools.count()


def plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def iter_rows(conn: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
              batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[list[Any]]:
    """Every row of `columns` of `table`, in key order, as lists of plain values.

    The rows are first copied to a regular table read through a cursor of its own, so the
    caller may run other queries on `conn` while it consumes (or abandons) the generator.
    """
    projection = ", ".join(f'"{c}"' for c in columns)
    export = f"__export_{next(_EXPORTS)}"
    conn.execute(f'CREATE TABLE main."{export}" AS SELECT {projection} FROM "{table}" '
                 "ORDER BY member_key")
    cursor = conn.cursor()
    try:
        cursor.execute(f'SELECT * FROM main."{export}"')
        while True:
            batch = cursor.fetchmany(batch_rows)
            if not batch:
                return
            for row in batch:
                yield [plain(v) for v in row]
    finally:
        cursor.close()
        # An abandoned generator is closed when collected, maybe after the workspace was.
        with contextlib.suppress(duckdb.Error):
            conn.execute(f'DROP TABLE IF EXISTS main."{export}"')


def iter_batches(rows: Iterator[list[Any]], size: int) -> Iterator[list[list[Any]]]:
    """Consecutive lists of at most `size` rows."""
    batch: list[list[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def iter_keys(conn: duckdb.DuckDBPyConnection, table: str,
              batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[str]:
    for row in iter_rows(conn, table, ["member_key"], batch_rows):
        yield str(row[0])
