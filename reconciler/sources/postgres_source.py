"""The PostgreSQL source: models read from a real server with psycopg 3.

Owns the connection (read-only transactions, the manifest's `searchPath`), streaming a
query through a server-side cursor as Arrow batches, and mapping PostgreSQL types to Arrow.
Must not write to the warehouse: every session is `read_only`. The connection URL comes from
the environment and is never printed.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.postgres import types as pg_types

from reconciler.connections import one_line, printable_url
from reconciler.manifests.models import PostgresSource
from reconciler.manifests.values import resolve_env_ref
from reconciler.sources.base import DEFAULT_BATCH_ROWS
from reconciler.sources.columns import Column, kind_of
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import POSTGRES
from reconciler.sources.errors import SourceConnectionError, SourceQueryError
from reconciler.sources.streamed import StreamedSource

_ARROW_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int2": pa.int64(),
    "int4": pa.int64(),
    "int8": pa.int64(),
    "float4": pa.float64(),
    "float8": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}
# Everything else (text, numeric, uuid, json…) travels as text: exact, and DuckDB casts it.
_TEXT = pa.string()
_TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "name"})


class PostgresWarehouse(StreamedSource):
    """A `Source` over PostgreSQL; each stream runs in its own read-only transaction."""

    dialect = POSTGRES

    def __init__(self, name: str, *, url: str, search_path: str | None = None) -> None:
        self.name = name
        self._cursors = itertools.count()
        try:
            self._conn = psycopg.connect(url, connect_timeout=10)
            self._conn.read_only = True
            if search_path:
                schemas = [part.strip() for part in search_path.split(",") if part.strip()]
                statement = sql.SQL("SET search_path TO {}").format(
                    sql.SQL(", ").join(sql.Identifier(s) for s in schemas)
                )
                self._conn.execute(statement)
                self._conn.commit()
        except psycopg.Error as exc:
            raise SourceConnectionError(f"source {name!r}: cannot connect to "
                                        f"{printable_url(url)}: {one_line(exc)}") from exc

    @classmethod
    def from_spec(cls, name: str, spec: PostgresSource) -> PostgresWarehouse:
        url = resolve_env_ref(spec.url, f"source {name!r} url")
        return cls(name, url=url, search_path=spec.search_path)

    def columns(self, query: SqlFragment) -> list[Column]:
        probe = f"SELECT * FROM ({query.sql}) AS q LIMIT 0"
        try:
            with self._conn.cursor() as cur:
                cur.execute(probe, query.params)
                names = [(d.name, _type_name(d.type_code)) for d in cur.description or ()]
            self._conn.rollback()
        except psycopg.Error as exc:
            self._conn.rollback()
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc
        return [Column(name, kind_of(native), native) for name, native in names]

    def stream(
        self, query: SqlFragment, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        cursor = self._conn.cursor(name=f"reconciler_stream_{next(self._cursors)}")
        cursor.itersize = batch_rows
        try:
            cursor.execute(query.sql, query.params)
        except psycopg.Error as exc:
            cursor.close()
            self._conn.rollback()
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc
        names = [_type_name(d.type_code) for d in cursor.description or []]
        schema = pa.schema([
            pa.field(d.name, _ARROW_TYPES.get(name, _TEXT))
            for d, name in zip(cursor.description or [], names, strict=True)
        ])
        converters = [_converter(name) for name in names]
        return pa.RecordBatchReader.from_batches(
            schema, self._batches(cursor, schema, converters, batch_rows)
        )

    def _batches(
        self,
        cursor: psycopg.ServerCursor[Any],
        schema: pa.Schema,
        converters: list[Callable[[Sequence[Any]], Sequence[Any]]],
        batch_rows: int,
    ) -> Iterator[pa.RecordBatch]:
        try:
            while rows := cursor.fetchmany(batch_rows):
                columns = zip(*rows, strict=True)
                arrays = [
                    pa.array(convert(values), type=field.type)
                    for convert, values, field in zip(converters, columns, schema, strict=True)
                ]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        except psycopg.Error as exc:
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc
        finally:
            cursor.close()
            self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


def _type_name(oid: int) -> str:
    info = pg_types.get(oid)
    return info.name if info is not None else "unknown"


def _converter(type_name: str) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Values psycopg returns as other Python types than Arrow expects become text."""
    if type_name in _ARROW_TYPES or type_name in _TEXT_TYPES:
        return lambda values: values
    return lambda values: [None if v is None else str(v) for v in values]
