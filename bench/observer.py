"""A synthetic destination for the plan benchmark: its contact keys come from a Parquet file.

Stands in for a real observer's paging through the destination's contacts (network-bound,
measured by the apply benchmark): it loads the whole key file into a table of the planner's
DuckDB connection, as the Selligent observer does with its pages; the diff keeps the desired
keys found there. The list exists already and nothing is missing, so the plan is about members only.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from reconciler.destinations.base import Structure
from reconciler.manifests.settings import EffectiveActivation
from reconciler.sources.dialects import DUCKDB


class SyntheticObserver:
    """A `DestinationObserver` whose contacts are the keys of one Parquet file."""

    def __init__(self, contacts: Path) -> None:
        self.contacts = contacts

    @property
    def target(self) -> str:
        return "synthetic destination"

    def plan_structure(self, activation: EffectiveActivation) -> Structure:
        return Structure(remote_name=activation.audience_name, list_exists=True)

    def load_contact_index(self, activation: EffectiveActivation,
                           conn: duckdb.DuckDBPyConnection, table: str,
                           desired_table: str) -> None:
        # Every contact's key, as a paging observer leaves them: the diff keeps the desired.
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {DUCKDB.quote(table)} AS SELECT member_key "
            f"FROM read_parquet({DUCKDB.quote_literal(str(self.contacts))})")

    def load_members(self, activation: EffectiveActivation,
                     conn: duckdb.DuckDBPyConnection, table: str) -> bool:
        return False

    def close(self) -> None:
        """Nothing to release."""
