"""`planIn: warehouse` on Snowflake (the emulator, reached by the real connector over HTTP):
the same plans as `planIn: local` before and after an apply and churn in the warehouse, the
row-hash tables kept by apply in the source's `stateSchema`, a full read (said) when they do
not describe the last apply, and hostile keys kept as values."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.sandbox.snowflake import EMULATOR_PASSWORD_ENV, SnowflakeEmulator
from reconciler.sandbox.warehouses import (
    aim_project,
    emulator_source,
    example_tables,
    seed_snowflake,
)
from reconciler.sources.dialects import DialectName
from reconciler.sources.incremental import members_table
from tests.e2e.conftest import Stack
from tests.e2e.warehouse_plans import apply_all, full_reads, planned_changes, same_plans

ACTIVATIONS = ["vip-selligent", "churn-selligent"]
STATE_SCHEMA = "reconciler_state"
pytestmark = pytest.mark.parametrize("stack", ["duckdb"], indirect=True)


@pytest.fixture
def warehouse(stack: Stack, snowflake_emulator: SnowflakeEmulator,
              snowflake_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The example's tables in an emulator database, the project's Source aimed at it; a
    cursor on that database."""
    import snowflake.connector

    seed_snowflake(snowflake_emulator, snowflake_database, example_tables(stack.manifests))
    monkeypatch.setenv(EMULATOR_PASSWORD_ENV, "emulator")
    source = emulator_source(snowflake_emulator, snowflake_database)
    aim_project(stack.manifests, DialectName.SNOWFLAKE, source)
    with snowflake.connector.connect(
            paramstyle="qmark", **snowflake_emulator.connect_arguments(
                snowflake_database, "PUBLIC")) as conn:
        cursor = conn.cursor()
        cursor.source = source  # type: ignore[attr-defined]
        yield cursor


def _plan_in(stack: Stack, cursor: Any, plan_in: str) -> None:
    yaml = YAML()
    path = stack.manifests / "sources.yaml"
    document = yaml.load(path.read_text("utf-8"))
    document["spec"] = {**cursor.source, "planIn": plan_in}
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)


def _both(stack: Stack, cursor: Any) -> dict[str, Any]:
    """Planned locally and in the warehouse: the same change sets; the warehouse's plan."""
    _plan_in(stack, cursor, "local")
    local = planned_changes(stack, ACTIVATIONS)
    _plan_in(stack, cursor, "warehouse")
    planned = planned_changes(stack, ACTIVATIONS)
    same_plans(local, planned)
    return planned


def _apply(stack: Stack, cursor: Any, plan_in: str) -> None:
    _plan_in(stack, cursor, plan_in)
    apply_all(stack, ACTIVATIONS)


def _column(cursor: Any, sql: str, *params: object) -> list[Any]:
    cursor.execute(sql, list(params))
    return [row[0] for row in cursor.fetchall()]


def _churn(cursor: Any) -> None:
    """Updates, deletes, inserts (one with a hostile key), a key becoming NULL, one on two
    rows, and orders moving a member's activity."""
    vips = _column(cursor, "SELECT customer_id FROM customers WHERE lifetime_value >= 1000 "
                   "AND email_consent ORDER BY customer_id")
    cursor.execute("UPDATE customers SET lifetime_value = lifetime_value + 1 "
                   "WHERE customer_id IN (?, ?, ?, ?, ?)", vips[0:5])
    cursor.execute("UPDATE customers SET lifetime_value = 10 WHERE customer_id IN (?, ?, ?)",
                   vips[5:8])
    cursor.execute("DELETE FROM customers WHERE customer_id IN (?, ?)", vips[8:10])
    cursor.execute("UPDATE customers SET customer_id = NULL WHERE customer_id = ?", [vips[10]])
    cursor.execute("INSERT INTO customers SELECT * FROM customers WHERE customer_id = ?",
                   [vips[11]])
    low = _column(cursor, "SELECT customer_id FROM customers WHERE lifetime_value < 1000 "
                  "ORDER BY customer_id LIMIT 3")
    cursor.execute("UPDATE customers SET lifetime_value = 5000, email_consent = TRUE "
                   "WHERE customer_id IN (?, ?, ?)", low)
    cursor.execute("INSERT INTO customers (customer_id, email, lifetime_value, email_consent) "
                   "VALUES (?, ?, 2500, TRUE)", ["NEW'; DROP TABLE x; --", "new1@example.com"])
    cursor.execute("UPDATE orders SET order_date = '2025-01-01' WHERE customer_id IN ("
                   "SELECT customer_id FROM orders ORDER BY customer_id LIMIT 4)")


def _raise_vips(cursor: Any, by: int) -> None:
    cursor.execute("UPDATE customers SET lifetime_value = lifetime_value + ? "
                   "WHERE lifetime_value >= 1000", [by])


def test_snowflake_warehouse_plans_equal_local_plans_through_apply_and_churn(
        stack: Stack, warehouse: Any) -> None:
    # Scenario: two activations on a Snowflake source planned with planIn local and with
    # planIn warehouse: before any apply (a full read, said), after an apply that records the
    # row hashes in the warehouse, after churn (updates, deletes, inserts, a NULL key, a key on
    # two rows, a key spelling SQL), and after a second, incremental apply: identical change
    # sets, counts and data issues, and no full read once the hashes are recorded.
    first = _both(stack, warehouse)
    assert any("nothing was applied yet" in w for w in full_reads(first))
    _apply(stack, warehouse, "warehouse")
    recorded = _column(warehouse, f'SELECT count(*) FROM "{STATE_SCHEMA}".'
                       f'"{members_table("vip-selligent")}"')[0]
    assert recorded == first["vip-selligent"]["counts"][1], (recorded, first["vip-selligent"])
    _churn(warehouse)
    second = _both(stack, warehouse)
    vip = second["vip-selligent"]["counts"]
    assert vip[2] and vip[3] and vip[4], vip
    assert not full_reads(second)
    _apply(stack, warehouse, "warehouse")  # an incremental apply keeps the table in line
    _raise_vips(warehouse, 2)
    third = _both(stack, warehouse)
    assert third["vip-selligent"]["counts"][4], third["vip-selligent"]["counts"]
    assert not full_reads(third)


def test_a_snowflake_apply_that_did_not_record_row_hashes_means_a_full_read(
        stack: Stack, warehouse: Any) -> None:
    # Scenario: row hashes recorded, then an apply planned locally (the state serial moves,
    # the warehouse's table does not): the next warehouse plan reads every row, says why,
    # and still plans as locally.
    _apply(stack, warehouse, "warehouse")
    _churn(warehouse)
    _apply(stack, warehouse, "local")
    _raise_vips(warehouse, 3)
    planned = _both(stack, warehouse)
    assert any("describe state serial" in w for w in full_reads(planned)), planned
