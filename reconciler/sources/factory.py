"""Opening the right `Source` for a `Source` manifest.

Owns the choice of implementation by the manifest's `type`; adding a warehouse means one
more branch here, one more module beside `duckdb_source.py`, and one more `Dialect`. The
Snowflake and BigQuery modules import their clients only when a source is opened (they are
optional extras).
"""
from __future__ import annotations

from pathlib import Path

from reconciler.manifests.models import (
    BigQuerySource,
    DuckDBSource,
    PostgresSource,
    SnowflakeSource,
)
from reconciler.sources.base import Source
from reconciler.sources.duckdb_source import DuckDBWarehouse
from reconciler.sources.postgres_source import PostgresWarehouse

SourceManifest = DuckDBSource | PostgresSource | SnowflakeSource | BigQuerySource


def open_source(name: str, spec: SourceManifest, manifest_dir: Path) -> Source:
    """Connect to the warehouse a `Source` manifest (in `manifest_dir`) describes."""
    if isinstance(spec, DuckDBSource):
        return DuckDBWarehouse.from_spec(name, spec, manifest_dir)
    if isinstance(spec, SnowflakeSource):
        from reconciler.sources.snowflake_source import SnowflakeWarehouse

        return SnowflakeWarehouse.from_spec(name, spec, manifest_dir)
    if isinstance(spec, BigQuerySource):
        from reconciler.sources.bigquery_source import BigQueryWarehouse

        return BigQueryWarehouse.from_spec(name, spec, manifest_dir)
    return PostgresWarehouse.from_spec(name, spec)
