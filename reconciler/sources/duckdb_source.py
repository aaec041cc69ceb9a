"""The DuckDB source: a database file, or CSV/Parquet files read through DuckDB.

Owns opening the warehouse read-only, exposing each manifest `files` entry as a view named
after its table (paths relative to the manifest's directory, globs allowed; typed as
`filetables.py` says, its bad rows reported by `bad_rows`), and running queries as Arrow
streams. Materializing into another DuckDB connection (the planner's
workspace) runs there, next to the data: the database file is attached read-only and the
files become CTEs of the statement, so the rows never cross an Arrow hop between two DuckDB
instances. Must not write to the database file: it is opened and attached read-only and the
file views are temporary.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from reconciler.arrow_streams import arrow_reader
from reconciler.closing import Closing
from reconciler.manifests.models import DuckDBSource, FieldType
from reconciler.sources.base import DEFAULT_BATCH_ROWS, BadRows
from reconciler.sources.columns import Column, kind_of
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import DUCKDB
from reconciler.sources.errors import SourceConnectionError, SourceQueryError
from reconciler.sources.filetables import FileReading, count_bad_rows, read_file_table

FileSpec = Path | tuple[Path, Mapping[str, FieldType]]
"""A file table: its path, or its path and the declared types of some of its columns."""


class DuckDBWarehouse(Closing):
    """A `Source` over DuckDB; `connection` is exposed so diffs can run next to the data."""

    dialect = DUCKDB

    def __init__(
        self, name: str, *, database: Path | None = None,
        files: Mapping[str, FileSpec] | None = None,
    ) -> None:
        self.name = name
        self.database = database
        self._file_readers: dict[str, str] = {}  # table -> the SQL reading its file(s)
        self._readings: dict[str, FileReading] = {}
        self._bad_rows: dict[str, tuple[BadRows, ...]] = {}  # counted once, by table
        if database is not None and not database.is_file():
            raise SourceConnectionError(f"source {name!r}: database file {database} not found")
        try:
            self.connection = duckdb.connect(
                str(database) if database else ":memory:", read_only=database is not None
            )
        except duckdb.Error as exc:
            raise SourceConnectionError(f"source {name!r}: cannot open {database}: {exc}") from exc
        # DuckDB draws a progress bar on stdout for long queries: it would corrupt
        # `plan --format json > file` and CI logs.
        self.connection.execute("SET enable_progress_bar = false")
        for table, spec in (files or {}).items():
            path, declared = spec if isinstance(spec, tuple) else (spec, {})
            self._register_file(table, path, declared)

    @classmethod
    def from_spec(cls, name: str, spec: DuckDBSource, manifest_dir: Path) -> DuckDBWarehouse:
        """Open a `Source` manifest's warehouse; relative paths start at the manifest."""
        database = (manifest_dir / spec.path) if spec.path else None
        files: dict[str, FileSpec] = {
            table: (manifest_dir / entry.path, entry.columns)
            for table, entry in spec.file_tables().items()}
        return cls(name, database=database, files=files)

    def _register_file(self, table: str, path: Path, declared: Mapping[str, FieldType]) -> None:
        reading = read_file_table(self.connection, self.name, table, path, declared)
        sql = f"CREATE OR REPLACE TEMP VIEW {DUCKDB.quote(table)} AS {reading.rows}"
        try:
            self.connection.execute(sql)
            self._file_readers[table] = reading.rows
            self._readings[table.casefold()] = reading
        except duckdb.Error as exc:
            raise SourceConnectionError(
                f"source {self.name!r}, table {table!r}: cannot read {path}: {exc}"
            ) from exc

    def bad_rows(self, query: SqlFragment, *, samples: int = 3) -> tuple[BadRows, ...]:
        """The bad rows of the file tables `query` names (each table counted once)."""
        found: list[BadRows] = []
        for table in sorted(self._tables_named(query)):
            if table not in self._readings:
                continue
            if table not in self._bad_rows:
                try:
                    self._bad_rows[table] = count_bad_rows(self.connection,
                                                           self._readings[table], samples)
                except duckdb.Error as exc:
                    raise SourceQueryError(f"source {self.name!r}: {exc}") from exc
            found.extend(self._bad_rows[table])
        return tuple(found)

    def materialize_bad_keys(self, query: SqlFragment, key: str,
                             into: duckdb.DuckDBPyConnection, table: str) -> bool:
        """The `key` values of the bad rows of the file tables `query` reads (see Source)."""
        reads = [sql for name in sorted(self._tables_named(query)) if name in self._readings
                 and (sql := self._readings[name].bad_values_of(key)) is not None]
        if not reads or not any(b.rows for b in self.bad_rows(query)):
            return False
        union = " UNION ".join(f"SELECT value FROM ({sql})" for sql in reads)
        self.materialize(SqlFragment(union), into, table,
                         select=f"DISTINCT value AS {DUCKDB.quote('member_key')}",
                         where="value IS NOT NULL")
        return True

    def _tables_named(self, query: SqlFragment) -> set[str]:
        """The tables a query reads, as DuckDB's parser sees them (case folded); all the
        file tables when it cannot say."""
        if not any(r.bad for r in self._readings.values()):
            return set()
        rows = self.connection.execute("SELECT json_serialize_sql(?)", [query.sql]).fetchall()
        tree = json.loads(rows[0][0])
        if tree.get("error"):
            return set(self._readings)
        return {name.casefold() for name in _table_names(tree)}

    def columns(self, query: SqlFragment) -> list[Column]:
        try:
            rows = self.connection.execute(f"DESCRIBE {query.sql}", query.params).fetchall()
        except duckdb.Error as exc:
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc
        return [Column(name, kind_of(native), native) for name, native, *_ in rows]

    def stream(
        self, query: SqlFragment, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        try:
            relation = self.connection.sql(query.sql, params=list(query.params))
            return arrow_reader(relation, batch_rows)
        except duckdb.Error as exc:
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc

    def materialize(
        self,
        query: SqlFragment,
        into: duckdb.DuckDBPyConnection,
        table: str,
        *,
        select: str = "*",
        where: str | None = None,
    ) -> None:
        rows = f"{select} FROM ({query.sql}) AS q" + (f" WHERE {where}" if where else "")
        try:
            if into is self.connection:
                # Same connection: DuckDB copies without a detour through Arrow.
                into.execute(f"CREATE OR REPLACE TEMP TABLE {DUCKDB.quote(table)} AS "
                             f"SELECT {rows}", query.params)
            else:
                self._materialize_in(into, table, rows, query.params)
        except duckdb.Error as exc:
            raise SourceQueryError(f"source {self.name!r}: {exc}") from exc

    def _materialize_in(self, into: duckdb.DuckDBPyConnection, table: str, select: str,
                        params: Sequence[object]) -> None:
        """Run `SELECT {select}` inside `into`: the database attached read-only, the files
        as CTEs."""
        files = ", ".join(f"{DUCKDB.quote(name)} AS ({reading})"
                          for name, reading in self._file_readers.items())
        statement = (f"CREATE OR REPLACE TEMP TABLE {DUCKDB.quote(table)} AS "
                     + (f"WITH {files} " if files else "") + f"SELECT {select}")
        if self.database is None:
            into.execute(statement, params)
            return
        # Attached for this statement only (the warehouse file is not held open past the
        # plan). Unqualified table names of the model resolve in it; the workspace's own temp
        # tables stay visible (DuckDB searches `temp` first).
        alias = f"__source_{uuid.uuid4().hex[:12]}"
        path = DUCKDB.quote_literal(str(self.database.resolve()))
        previous = into.execute("SELECT current_setting('search_path')").fetchall()[0][0]
        into.execute(f"ATTACH {path} AS {DUCKDB.quote(alias)} (READ_ONLY)")
        try:
            into.execute(f"SET search_path = {DUCKDB.quote_literal(f'{alias}.main')}")
            into.execute(statement, params)
        finally:
            into.execute(f"SET search_path = {DUCKDB.quote_literal(previous)}")
            into.execute(f"DETACH {DUCKDB.quote(alias)}")

    def close(self) -> None:
        self.connection.close()


def _table_names(node: object) -> set[str]:
    """Every `table_name` of a base table reference in a serialized statement."""
    if isinstance(node, list):
        return {name for item in node for name in _table_names(item)}
    if not isinstance(node, dict):
        return set()
    found = {node["table_name"]} if node.get("type") == "BASE_TABLE" and isinstance(
        node.get("table_name"), str) else set()
    return found | {name for value in node.values() for name in _table_names(value)}
