"""What the server warehouses (PostgreSQL, Snowflake, BigQuery) share: rows come as Arrow.

Owns materializing a server source's query into the planner's DuckDB by streaming its Arrow
batches through (`reconciler.arrow_streams`), and the answers of a typed warehouse to the
bad-row questions (none: its columns are typed, so no value is left out by its type). Each
subclass only connects and streams.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.arrow_streams import load_reader_into
from reconciler.closing import Closing
from reconciler.sources.base import DEFAULT_BATCH_ROWS, BadRows
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.errors import SourceQueryError


class StreamedSource(Closing):
    """The `Source` methods a warehouse gets from its `stream`."""

    name: str

    def stream(
        self, query: SqlFragment, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        raise NotImplementedError

    def materialize(
        self,
        query: SqlFragment,
        into: duckdb.DuckDBPyConnection,
        table: str,
        *,
        select: str = "*",
        where: str | None = None,
    ) -> None:
        try:
            load_reader_into(self.stream(query), into, table, select=select, where=where)
        except duckdb.Error as exc:  # the stream failed midway, or the select list did
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc

    def bad_rows(self, query: SqlFragment, *, samples: int = 3) -> tuple[BadRows, ...]:
        """None: the warehouse's columns are typed, so no value is left out by its type."""
        return ()

    def materialize_bad_keys(self, query: SqlFragment, key: str,
                             into: duckdb.DuckDBPyConnection, table: str) -> bool:
        return False


def conform(chunks: Iterable[pa.Table | pa.RecordBatch], schema: pa.Schema,
            batch_rows: int) -> Iterator[pa.RecordBatch]:
    """A client's result chunks cast to `schema`, in batches of at most `batch_rows` rows
    (chunks differ: one may hold a number column as int8, the next as int64; timestamps come
    in nanoseconds, microseconds are what every source gives)."""
    for chunk in chunks:
        table = chunk if isinstance(chunk, pa.Table) else pa.Table.from_batches([chunk])
        columns = [_cast(table.column(i), field) for i, field in enumerate(schema)]
        yield from pa.Table.from_arrays(columns, schema=schema).to_batches(batch_rows)


def _cast(column: pa.ChunkedArray, field: pa.Field) -> pa.ChunkedArray:
    if column.type == field.type:
        return column
    return pc.cast(column, field.type, safe=not pa.types.is_timestamp(field.type))
