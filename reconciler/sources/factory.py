"""Opening the right `Source` for a `Source` manifest.

Owns the choice of implementation by the manifest's `type`; adding a warehouse means one
more branch here, one more module beside `duckdb_source.py`, and one more `Dialect`.
"""
from __future__ import annotations

from pathlib import Path

from reconciler.manifests.models import DuckDBSource, PostgresSource
from reconciler.sources.base import Source
from reconciler.sources.duckdb_source import DuckDBWarehouse
from reconciler.sources.postgres_source import PostgresWarehouse


def open_source(name: str, spec: DuckDBSource | PostgresSource, manifest_dir: Path) -> Source:
    """Connect to the warehouse a `Source` manifest (in `manifest_dir`) describes."""
    if isinstance(spec, DuckDBSource):
        return DuckDBWarehouse.from_spec(name, spec, manifest_dir)
    return PostgresWarehouse.from_spec(name, spec)
