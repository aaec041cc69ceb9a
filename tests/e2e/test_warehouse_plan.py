"""`planIn: warehouse` on PostgreSQL: the same plans as `planIn: local`, before and after an
apply and churn in the warehouse, and a full read (said) whenever the warehouse's row hashes
do not describe the last apply."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from ruamel.yaml import YAML
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifests.loading import load_project
from reconciler.operations.plans import make_plan
from reconciler.planning.planner import Refresh, Workspace
from reconciler.sandbox.warehouses import aim_project, example_tables, seed_postgres
from reconciler.sources.dialects import DialectName
from reconciler.state import open_state_store
from tests.e2e.conftest import Stack
from tests.e2e.warehouse_plans import (
    FULL_READ,
    apply_all,
    full_reads,
    planned_changes,
    same_plans,
)

runner = CliRunner()
ACTIVATIONS = ["vip-selligent", "churn-selligent"]


@pytest.fixture
def warehouse(stack: Stack, postgres_url: str, postgres_schema: str,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The example's tables in a PostgreSQL schema, the project's Source aimed at it."""
    seed_postgres(postgres_url, postgres_schema, example_tables(stack.manifests))
    monkeypatch.setenv("WAREHOUSE_TEST_URL", postgres_url)
    aim_project(stack.manifests, DialectName.POSTGRES, _source("local", postgres_schema))
    yield postgres_schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(f"{postgres_schema}_state")))


def _source(plan_in: str, schema: str) -> dict[str, Any]:
    return {"type": "postgres", "url": "${env:WAREHOUSE_TEST_URL}", "searchPath": schema,
            "planIn": plan_in, "stateSchema": f"{schema}_state"}


def _plan_in(stack: Stack, schema: str, plan_in: str) -> None:
    yaml = YAML()
    path = stack.manifests / "sources.yaml"
    document = yaml.load(path.read_text("utf-8"))
    document["spec"] = _source(plan_in, schema)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)


def _changes(stack: Stack, schema: str, plan_in: str) -> dict[str, Any]:
    _plan_in(stack, schema, plan_in)
    return planned_changes(stack, ACTIVATIONS)


def _apply(stack: Stack, schema: str, plan_in: str) -> None:
    _plan_in(stack, schema, plan_in)
    apply_all(stack, ACTIVATIONS)


def _churn(url: str, schema: str) -> None:
    """Updates, deletes, inserts, a key becoming NULL and one on two rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        vips = [r[0] for r in conn.execute(
            "SELECT customer_id FROM customers WHERE lifetime_value >= 1000 AND email_consent "
            "ORDER BY customer_id").fetchall()]
        conn.execute("UPDATE customers SET lifetime_value = lifetime_value + 1 "
                     "WHERE customer_id = ANY(%s)", (vips[0:5],))
        conn.execute("UPDATE customers SET lifetime_value = 10 WHERE customer_id = ANY(%s)",
                     (vips[5:8],))
        conn.execute("DELETE FROM customers WHERE customer_id = ANY(%s)", (vips[8:10],))
        conn.execute("UPDATE customers SET customer_id = NULL WHERE customer_id = %s",
                     (vips[10],))
        conn.execute("INSERT INTO customers SELECT * FROM customers WHERE customer_id = %s",
                     (vips[11],))
        conn.execute("UPDATE customers SET lifetime_value = 5000, email_consent = true "
                     "WHERE customer_id IN (SELECT customer_id FROM customers "
                     "WHERE lifetime_value < 1000 ORDER BY customer_id LIMIT 3)")
        conn.execute("INSERT INTO customers (customer_id, email, lifetime_value, email_consent) "
                     "VALUES ('NEW00001', 'new1@example.com', 2500, true)")
        conn.execute("UPDATE orders SET order_date = DATE '2025-01-01' WHERE customer_id = ANY("
                     "SELECT customer_id FROM orders ORDER BY customer_id LIMIT 4)")


def _raise_vips(url: str, schema: str, by: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("UPDATE customers SET lifetime_value = lifetime_value + %s "
                     "WHERE lifetime_value >= 1000", (by,))


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_warehouse_plans_equal_local_plans_through_apply_and_churn(
        stack: Stack, warehouse: str, postgres_url: str) -> None:
    # Scenario: two activations on a PostgreSQL source planned with planIn local and with
    # planIn warehouse: before any apply (the warehouse plan reads every row and says so),
    # after an apply that records the row hashes, and after churn in the warehouse (updates,
    # deletes, inserts, a key becoming NULL, a key on two rows): identical change sets,
    # counts and data issues, the second warehouse plan without a full read.
    first_local = _changes(stack, warehouse, "local")
    first_warehouse = _changes(stack, warehouse, "warehouse")
    same_plans(first_local, first_warehouse)
    assert any(FULL_READ in w and "nothing was applied yet" in w
               for w in first_warehouse["vip-selligent"]["warnings"])
    _apply(stack, warehouse, "warehouse")
    _churn(postgres_url, warehouse)
    second_local = _changes(stack, warehouse, "local")
    second_warehouse = _changes(stack, warehouse, "warehouse")
    same_plans(second_local, second_warehouse)
    vip = second_warehouse["vip-selligent"]
    assert vip["counts"][2] and vip["counts"][3] and vip["counts"][4], vip["counts"]
    assert not [w for name in ACTIVATIONS for w in second_warehouse[name]["warnings"]
                if FULL_READ in w]
    _apply(stack, warehouse, "warehouse")  # an incremental apply keeps the table in line
    _raise_vips(postgres_url, warehouse, 2)
    third_local = _changes(stack, warehouse, "local")
    third_warehouse = _changes(stack, warehouse, "warehouse")
    same_plans(third_local, third_warehouse)
    assert not [w for w in third_warehouse["vip-selligent"]["warnings"] if FULL_READ in w]


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_an_apply_that_did_not_record_row_hashes_means_a_full_read(
        stack: Stack, warehouse: str, postgres_url: str) -> None:
    # Scenario: row hashes recorded by a warehouse-side apply, then an apply planned locally
    # (the state serial moves, the warehouse's table does not): the next warehouse plan reads
    # every row, says why, and still plans as locally.
    _apply(stack, warehouse, "warehouse")
    _churn(postgres_url, warehouse)
    _apply(stack, warehouse, "local")
    _raise_vips(postgres_url, warehouse, 3)
    local = _changes(stack, warehouse, "local")
    planned = _changes(stack, warehouse, "warehouse")
    same_plans(local, planned)
    assert any(FULL_READ in w and "describe state serial" in w
               for w in planned["vip-selligent"]["warnings"])


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
@pytest.mark.parametrize("first", ["warehouse-full", "warehouse-incremental"])
def test_a_row_changed_between_plan_and_apply_is_read_again(
        stack: Stack, warehouse: str, postgres_url: str, first: str) -> None:
    # Scenario: a warehouse-side plan (a full read, or an incremental one after a recorded
    # apply), then rows change in the warehouse before its apply records the row hashes: the
    # table keeps the hashes the plan saw, so the next warehouse plan reads those rows again
    # and plans as a local one does.
    if first == "warehouse-incremental":
        _apply(stack, warehouse, "warehouse")
        _raise_vips(postgres_url, warehouse, 1)
    _plan_in(stack, warehouse, "warehouse")
    project, _ = load_project(stack.manifests)
    workspace = Workspace()
    try:
        make_plan(project, activations=["vip-selligent"], refresh=Refresh.NONE,
                  state=str(stack.state), workspace=workspace, clock=stack.clock)
        _raise_vips(postgres_url, warehouse, 5)  # after the plan, before its apply records
        store = open_state_store(stack.state)
        try:
            members = workspace.tables_of("vip-selligent").members
            store.write_snapshot_from_duckdb("vip-selligent", workspace.conn, members,
                                             taken_at=stack.clock.now(),
                                             hash_format=workspace.hash_format)
            workspace.record_warehouse("vip-selligent", store.snapshot_info("vip-selligent"),
                                       members)
        finally:
            store.close()
    finally:
        workspace.close()
    local = _changes(stack, warehouse, "local")
    planned = _changes(stack, warehouse, "warehouse")
    same_plans(local, planned)
    assert planned["vip-selligent"]["counts"][4], planned["vip-selligent"]["counts"]
    assert not [w for w in planned["vip-selligent"]["warnings"] if FULL_READ in w]


def test_the_row_hash_tables_are_named_by_digest(tmp_path: Path) -> None:
    # Scenario: any activation name fits PostgreSQL's 63-byte identifiers.
    from reconciler.sources.incremental import members_table

    assert members_table("x" * 200).startswith("members_") and len(members_table("a")) == 24


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_an_encrypted_state_plans_in_the_warehouse_as_locally(
        stack: Stack, warehouse: str, postgres_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: the state encrypted at rest (snapshot keys kept as keyed hashes): after a
    # warehouse-side apply and churn, the warehouse plan (its unchanged members' sealed keys
    # opened locally) reads incrementally and counts what the local plan counts.
    (stack.workdir / "reconciler.yaml").write_text(
        "manifests: manifests\nstate:\n  encryption:\n    key: ${env:WAREHOUSE_TEST_KEY}\n",
        "utf-8")
    monkeypatch.setenv("WAREHOUSE_TEST_KEY", base64.b64encode(os.urandom(32)).decode())
    _apply(stack, warehouse, "warehouse")
    _churn(postgres_url, warehouse)
    plans = {}
    for plan_in in ("local", "warehouse"):
        _plan_in(stack, warehouse, plan_in)
        result = runner.invoke(app, ["plan", *stack.cli_args(), "--format", "json",
                                     *(a for name in ACTIVATIONS for a in ("-a", name))])
        assert result.exit_code == 0, result.output
        document = json.loads(result.output[result.output.index("\n{") + 1:])
        plans[plan_in] = {a["activation"]: a for a in document["activations"]}
    for name in ACTIVATIONS:
        local, planned = plans["local"][name], plans["warehouse"][name]
        assert local["members"] == planned["members"], name
        assert local["attributes"] == planned["attributes"], name
        assert not [w for w in planned["warnings"] if FULL_READ in w], planned["warnings"]
    assert plans["warehouse"]["vip-selligent"]["members"]["removes"]


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_a_moving_moment_still_plans_incrementally(stack: Stack, warehouse: str) -> None:
    # Scenario: churn-selligent's segment (`olderThan: 180d` on a date) applied in the
    # warehouse, then the clock moves 90 days: members whose last order is now old enough
    # enter. The warehouse plan reads incrementally (no full read: the fingerprint is of the
    # definition, not the moment) and plans what the local plan plans.
    _apply(stack, warehouse, "warehouse")
    stack.at(stack.clock.now() + dt.timedelta(days=90))
    local = _changes(stack, warehouse, "local")
    planned = _changes(stack, warehouse, "warehouse")
    same_plans(local, planned)
    assert planned["churn-selligent"]["counts"][2], planned["churn-selligent"]["counts"]
    assert not full_reads(planned)


def _apply_saved(stack: Stack, schema: str, name: str) -> None:
    """plan --out with planIn warehouse, then apply the saved plan."""
    _plan_in(stack, schema, "warehouse")
    saved = stack.workdir / name
    planned = runner.invoke(app, ["plan", *stack.cli_args(), "--out", str(saved),
                                  *(a for activation in ACTIVATIONS for a in ("-a", activation))])
    assert planned.exit_code == 0, planned.output
    applied = runner.invoke(app, ["apply", str(saved), "--state", str(stack.state),
                                  "--auto-approve"])
    assert applied.exit_code == 0, applied.output


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_an_applied_saved_plan_records_the_row_hashes(
        stack: Stack, warehouse: str, postgres_url: str) -> None:
    # Scenario: a warehouse-side plan saved with --out (a full read: nothing applied yet) and
    # applied from the file, churn, then a saved incremental plan applied the same way: each
    # time the next warehouse plan reads incrementally (the saved plan carried what its apply
    # needs to keep the row hashes) and plans what a local plan plans.
    _apply_saved(stack, warehouse, "first.plan")
    _churn(postgres_url, warehouse)
    local = _changes(stack, warehouse, "local")
    planned = _changes(stack, warehouse, "warehouse")
    same_plans(local, planned)
    assert not full_reads(planned), full_reads(planned)
    _apply_saved(stack, warehouse, "second.plan")
    _raise_vips(postgres_url, warehouse, 4)
    local = _changes(stack, warehouse, "local")
    planned = _changes(stack, warehouse, "warehouse")
    same_plans(local, planned)
    assert planned["vip-selligent"]["counts"][4], planned["vip-selligent"]["counts"]
    assert not full_reads(planned), full_reads(planned)
