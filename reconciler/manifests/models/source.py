"""The Source kind: where models read rows (DuckDB, or PostgreSQL)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reconciler.manifests.models.activation import FieldType
from reconciler.manifests.models.common import StrictModel
from reconciler.manifests.values import Credential


class FileTable(StrictModel):
    """A table read from CSV or Parquet files, with the types of some of its columns."""

    path: str = Field(min_length=1, description="The file(s), relative to this manifest "
                      "(glob allowed).")
    columns: dict[str, FieldType] = Field(
        default_factory=dict,
        description="Column types: {column: string | integer | decimal | boolean | date | "
        "timestamp}. A value that does not fit its column's type makes its row a bad row "
        "(counted, sampled masked in the plan, left out), never a change of the column's "
        "type. Columns not named here are typed from every row of the file.")


class DuckDBSource(StrictModel):
    """The embedded default warehouse: a DuckDB file, or CSV/Parquet files read through it."""

    type: Literal["duckdb"]
    path: str | None = Field(
        default=None,
        description="The database file, relative to this manifest; in memory when absent.",
    )
    files: dict[str, str | FileTable] = Field(
        default_factory=dict,
        description="Tables read from CSV or Parquet files (glob allowed), relative to this "
        "manifest: {table name: path}, or {table name: {path, columns}} to declare the types "
        "of some columns.",
    )

    def file_tables(self) -> dict[str, FileTable]:
        """Every `files` entry as a FileTable (a bare path declares no column type)."""
        return {table: entry if isinstance(entry, FileTable) else FileTable(path=entry)
                for table, entry in self.files.items()}


class PostgresSource(StrictModel):
    type: Literal["postgres"]
    url: Credential = Field(description="A libpq URL, postgresql://user:password@host/db.")
    search_path: str | None = Field(default=None, description="The schema(s) models read.")


SourceSpec = Annotated[DuckDBSource | PostgresSource, Field(discriminator="type")]
