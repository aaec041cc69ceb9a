"""The row-hash tables of `planIn: warehouse` in Snowflake (the emulator, the real
connector): written whole, then incrementally, each write one transaction."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.manifests.models import SnowflakeSource
from reconciler.sandbox.snowflake import SnowflakeEmulator
from reconciler.sources.incremental import Changes, members_table
from reconciler.sources.snowflake_state import write_snowflake

ACTIVATION = "vip; DROP TABLE x --"
HOSTILE = "k'\"; DELETE FROM activations; --"


class Rows:
    """A result of (member_key, row_hash) rows in batches; `fail_after` batches, it fails."""

    def __init__(self, batches: list[list[tuple[str, str]]], fail_after: int | None = None):
        self.batches, self.fail_after, self.served = batches, fail_after, 0

    def fetchmany(self, _size: int) -> list[tuple[str, str]]:
        if self.fail_after is not None and self.served == self.fail_after:
            raise RuntimeError("the workspace failed mid-write")
        self.served += 1
        return self.batches.pop(0) if self.batches else []


@pytest.fixture
def spec(snowflake_emulator: SnowflakeEmulator, snowflake_database: str,
         monkeypatch: pytest.MonkeyPatch) -> SnowflakeSource:
    snowflake_emulator.seed(snowflake_database, "PUBLIC", [])
    monkeypatch.setenv("SF_STATE_TEST_PASSWORD", "emulator")
    return SnowflakeSource.model_validate({
        "type": "snowflake", "account": "emulator", "user": "fake",
        "password": "${env:SF_STATE_TEST_PASSWORD}", "database": snowflake_database,
        "schema": "PUBLIC", "host": snowflake_emulator.host, "port": snowflake_emulator.port,
        "protocol": "http", "planIn": "warehouse"})


def _write(spec: SnowflakeSource, changes: Changes, serial: int) -> None:
    write_snowflake("warehouse", spec, Path(), ACTIVATION, "fp", changes, serial)


def _read(emulator: SnowflakeEmulator, database: str) -> tuple[list[Any], list[Any]]:
    import snowflake.connector

    with snowflake.connector.connect(**emulator.connect_arguments(database, "PUBLIC")) as conn:
        cursor = conn.cursor()
        cursor.execute(f'SELECT * FROM "reconciler_state"."{members_table(ACTIVATION)}" '
                       "ORDER BY 1")
        rows = cursor.fetchall()
        cursor.execute('SELECT activation, serial, fingerprint, members '
                       'FROM "reconciler_state"."activations"')
        return rows, cursor.fetchall()


def test_a_full_then_an_incremental_write(spec: SnowflakeSource,
                                          snowflake_emulator: SnowflakeEmulator,
                                          snowflake_database: str) -> None:
    # Scenario: the schema and tables made on first use; a full write, then an incremental
    # one (a stale key deleted, a fresh one inserted, a key spelling SQL kept as a value).
    full = Rows([[("a", "1"), ("b", "2")], [(HOSTILE, "3")]])
    _write(spec, Changes(True, [], full), 1)  # type: ignore[arg-type]
    rows, meta = _read(snowflake_emulator, snowflake_database)
    assert rows == [("a", "1"), ("b", "2"), (HOSTILE, "3")]
    assert meta == [(ACTIVATION, 1, "fp", 3)]
    _write(spec, Changes(False, ["b"], Rows([[("b", "22"), ("c", "4")]])), 2)  # type: ignore[arg-type]
    rows, meta = _read(snowflake_emulator, snowflake_database)
    assert rows == [("a", "1"), ("b", "22"), ("c", "4"), (HOSTILE, "3")]
    assert meta == [(ACTIVATION, 2, "fp", 4)]


def test_a_write_failing_midway_changes_nothing(spec: SnowflakeSource,
                                               snowflake_emulator: SnowflakeEmulator,
                                               snowflake_database: str) -> None:
    # Scenario: the rows to insert fail after the stale keys were deleted: the transaction is
    # rolled back, the table and its serial stay as they were (the next plan sees serial 1).
    _write(spec, Changes(True, [], Rows([[("a", "1"), ("b", "2")]])), 1)  # type: ignore[arg-type]
    failing = Rows([[("c", "3")], [("d", "4")]], fail_after=1)
    with pytest.raises(RuntimeError, match="mid-write"):
        _write(spec, Changes(False, ["a", "b"], failing), 2)  # type: ignore[arg-type]
    rows, meta = _read(snowflake_emulator, snowflake_database)
    assert rows == [("a", "1"), ("b", "2")]
    assert meta == [(ACTIVATION, 1, "fp", 2)]
