"""The Source protocol: what every warehouse offers the audience layer.

Owns the contract only: run a SELECT with bound parameters and hand back Arrow record
batches as a stream (never a whole result in Python), copy such a result into a DuckDB
table, describe a query's columns, and report the rows of its tables it had to leave out
(a file value that does not fit its declared type). Implementations: `duckdb_source.py`,
`postgres_source.py`, `snowflake_source.py`, `bigquery_source.py` (the server ones share
`streamed.py`); the Arrow/DuckDB plumbing is `reconciler.arrow_streams`. Sources only
read: they never write to a warehouse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa

from reconciler.closing import Closing
from reconciler.sources.columns import Column
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import Dialect

DEFAULT_BATCH_ROWS = 50_000


@dataclass(frozen=True)
class BadRows:
    """Rows of a source table left out because a value does not fit its column's declared
    type (they never reach a model)."""

    table: str
    column: str
    type: str
    """The declared type (`decimal`, `date`, …)."""
    rows: int
    samples: tuple[str, ...] = ()
    """A few of the unfit values, masked."""


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

    def bad_rows(self, query: SqlFragment, *, samples: int = 3) -> tuple[BadRows, ...]:
        """The rows the tables `query` reads had to leave out (none when nothing is typed)."""
        ...

    def materialize_bad_keys(self, query: SqlFragment, key: str,
                             into: duckdb.DuckDBPyConnection, table: str) -> bool:
        """Create temp table `table` (`member_key`) in `into` with the `key` column's values in
        the bad rows of the tables `query` reads that have such a column: the members whose
        data could not all be read. False, creating nothing, when there are none to read."""
        ...
