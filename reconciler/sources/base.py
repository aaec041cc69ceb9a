"""The Source protocol: what every warehouse offers the audience layer.

Owns the contract only: run a SELECT with bound parameters and hand back Arrow record
batches as a stream (never a whole result in Python), copy such a result into a DuckDB
table, and describe a query's columns. Implementations: `duckdb_source.py`,
`postgres_source.py`; the Arrow/DuckDB plumbing is `reconciler.arrow_streams`. Sources only
read: they never write to a warehouse.
"""
from __future__ import annotations

from typing import Protocol

import duckdb
import pyarrow as pa

from reconciler.closing import Closing
from reconciler.sources.columns import Column
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import Dialect

DEFAULT_BATCH_ROWS = 50_000


class Source(Closing, Protocol):
    """A warehouse connection. One query streams at a time per source."""

    name: str
    dialect: Dialect

    def columns(self, query: SqlFragment) -> list[Column]:
        """The result columns of `query` (without reading its rows)."""
        ...

    def stream(
        self, query: SqlFragment, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        """The rows of `query` as Arrow batches of at most `batch_rows` rows, read lazily."""
        ...

    def materialize(
        self,
        query: SqlFragment,
        into: duckdb.DuckDBPyConnection,
        table: str,
        *,
        select: str = "*",
        where: str | None = None,
    ) -> None:
        """Create (or replace) DuckDB temp table `table` in `into` from the rows of `query`.

        `select` is a DuckDB SELECT list over the query's columns, computed inside `into` as
        the rows arrive (one pass, whatever the source's engine); `where`, a DuckDB condition
        over them (it may read `into`'s tables) keeping only some rows.
        """
        ...

