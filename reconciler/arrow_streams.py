"""Arrow record-batch streams in and out of DuckDB, shared by `sources/` and `state/`.

Owns the two moves every large data path here makes: a DuckDB query read lazily as an Arrow
stream, and an Arrow stream written into a DuckDB temp table batch by batch, with bounded
memory. Hides the spelling differences between duckdb 1.x and 2.x. Must not know about
manifests, audiences or snapshots.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable

import duckdb
import pyarrow as pa

_views = itertools.count()


def quote_duckdb(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def arrow_reader(relation: duckdb.DuckDBPyRelation, batch_rows: int) -> pa.RecordBatchReader:
    """A DuckDB relation as a lazy Arrow reader."""
    to_reader = getattr(relation, "to_arrow_reader", None)
    if to_reader is not None:
        return to_reader(batch_rows)
    return relation.fetch_arrow_reader(batch_rows)


def as_reader(
    batches: pa.RecordBatchReader | Iterable[pa.RecordBatch], default_schema: pa.Schema
) -> pa.RecordBatchReader:
    """Any iterable of batches as a reader, its schema taken from its first batch."""
    if isinstance(batches, pa.RecordBatchReader):
        return batches
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return pa.RecordBatchReader.from_batches(default_schema, iter(()))
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], iterator))


def load_reader_into(
    reader: pa.RecordBatchReader,
    into: duckdb.DuckDBPyConnection,
    table: str,
    *,
    select: str = "*",
    where: str | None = None,
) -> None:
    """Create (or replace) temp table `table` of `into` from an Arrow stream, batch by batch.

    `select` is a DuckDB SELECT list over the stream's columns, computed on the way in;
    `where`, a condition over them keeping only some rows.
    """
    view = f"__reconciler_arrow_{next(_views)}"
    into.register(view, reader)
    try:
        into.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_duckdb(table)} AS SELECT {select} FROM {view}"
            + (f" WHERE {where}" if where else "")
        )
    finally:
        into.unregister(view)
