"""The state store fixtures: every state test runs against both backends."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.state import StateReader, StateWriter, open_state_reader, open_state_store


@dataclass(frozen=True)
class StateTarget:
    """Where a test's store lives: a DuckDB file under tmp_path, or a unique PG schema."""

    location: str
    schema: str

    def writer(self, migrate_to: int | None = None) -> StateWriter:
        return open_state_store(self.location, schema=self.schema, migrate_to=migrate_to)

    def reader(self) -> StateReader:
        return open_state_reader(self.location, schema=self.schema)


@pytest.fixture(params=["duckdb", "postgres"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> StateTarget:
    if request.param == "duckdb":
        return StateTarget(str(tmp_path / ".reconciler" / "state.duckdb"), "reconciler")
    url = request.getfixturevalue("postgres_url")
    return StateTarget(url, request.getfixturevalue("postgres_schema"))
