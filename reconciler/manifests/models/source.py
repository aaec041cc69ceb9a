"""The Source kind: where models read rows (DuckDB, or PostgreSQL)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reconciler.manifests.models.common import StrictModel
from reconciler.manifests.values import Credential


class DuckDBSource(StrictModel):
    """The embedded default warehouse: a DuckDB file, or CSV/Parquet files read through it."""

    type: Literal["duckdb"]
    path: str | None = Field(
        default=None,
        description="The database file, relative to this manifest; in memory when absent.",
    )
    files: dict[str, str] = Field(
        default_factory=dict,
        description="Tables read from CSV or Parquet files (glob allowed), relative to this "
        "manifest: {table name: path}.",
    )


class PostgresSource(StrictModel):
    type: Literal["postgres"]
    url: Credential = Field(description="A libpq URL, postgresql://user:password@host/db.")
    search_path: str | None = Field(default=None, description="The schema(s) models read.")


SourceSpec = Annotated[DuckDBSource | PostgresSource, Field(discriminator="type")]
