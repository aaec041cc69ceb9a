"""Actito's import budget rules: targets, groups, budget use, allocation, shares, conflicts."""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.changes.imports import ImportTarget
from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import WriteResult
from reconciler.executing.importbudget import (
    BudgetUse,
    ImportGroup,
    deferred_groups,
    import_groups,
    import_targets,
    sends_updates,
    table_clusters,
)
from reconciler.executing.importplan import find_conflicts
from reconciler.executing.sharedimport import share_out, without_hashes_of_updates
from reconciler.manifests.loading import load_project
from reconciler.manifests.models import EmptyValues, FieldMapping
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.planning.plan import ActivationPlan, AttributeChange
from tests.manifests.conftest import replace_in

REPO = Path(__file__).resolve().parents[2]
TABLE = ImportTarget("sandbox@127.0.0.1:8782", "Profiles", 12)
DAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def project() -> Project:
    loaded, diagnostics = load_project(REPO / "manifests")
    assert diagnostics == []
    return loaded


@pytest.fixture(scope="module")
def settings(project: Project) -> dict[str, EffectiveActivation]:
    """The example's activations, churn-actito's updates as a one-shot import (the example
    triggers its portal ETL 601: that case has its own tests)."""
    found = effective_activations(project)
    return {**found, "churn-actito": dataclasses.replace(found["churn-actito"], etl_id=None)}


def _planned(name: str, updates: int = 5, **extra: object) -> ActivationPlan:
    return ActivationPlan(activation=name, destination="actito-sandbox",
                          destination_type="actito", target="t", remote_name=name,
                          attributes=AttributeChange(updates=updates, fields=("x",)), **extra)


def test_only_actito_destinations_have_a_budget(project: Project,
                                                settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: the example project: both Actito activations share one table's budget, the
    # documented 24 imports a day (Mass Imports API).
    targets = import_targets(project, settings)
    documented = ImportTarget(TABLE.account, TABLE.table, 24)
    assert targets == {"churn-actito": documented, "sms-actito": documented}


def test_the_budget_is_a_destination_limit(tmp_path: Path) -> None:
    # Scenario: `limits.bulkImportsPerDay: 4` (an extension pack) and a base URL from the env.
    shutil.copytree(REPO / "manifests", tmp_path / "m")
    replace_in(tmp_path / "m" / "destinations.yaml", "  defaults:\n    validityPeriod: 2d",
               "  limits: {bulkImportsPerDay: 4}\n  defaults:\n    validityPeriod: 2d")
    replace_in(tmp_path / "m" / "destinations.yaml", "baseUrl: http://127.0.0.1:8782",
               "baseUrl: '${env:ACTITO_URL}'")
    loaded, diagnostics = load_project(tmp_path / "m")
    assert [d for d in diagnostics if d.severity == "error"] == []
    target = import_targets(loaded, effective_activations(loaded))["churn-actito"]
    assert target == ImportTarget("sandbox@${env:actito_url}", "Profiles", 4)


def test_groups_share_a_table_and_key_and_skip_what_apply_would_not_send(
        settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: churn (customerId) and sms (gsmNumber) on one table; others filtered out.
    targets = {"churn-actito": TABLE, "sms-actito": TABLE, "twin": TABLE}
    both = {**settings, "twin": settings["churn-actito"]}
    planned = [_planned("churn-actito"), _planned("sms-actito"), _planned("twin"),
               _planned("vip-selligent")]
    groups = import_groups(planned, targets, both, sends_updates)
    assert groups == [ImportGroup(TABLE, "customerId", ("churn-actito", "twin"), ("churnScore",)),
                      ImportGroup(TABLE, "gsmNumber", ("sms-actito",))]
    idle = [_planned("churn-actito", updates=0), _planned("twin", error="broken"),
            _planned("sms-actito", stops=(GuardStop(
                kind=GuardKind.MAX_REMOVAL_RATIO, activation="sms-actito", measured=0.5,
                limit=0.3),))]
    assert import_groups(idle, targets, both, sends_updates) == []
    allowed = import_groups(idle, targets, both,
                            lambda p: sends_updates(p, allow_mass_removal=True))
    assert [g.activations for g in allowed] == [("sms-actito",)]


def test_only_activations_that_fit_one_csv_share_an_import(
        settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: one table, one key: the same columns (in another order) share; other columns,
    # another etlId or another empty-value rule each get an import of their own (one CSV per
    # table per execution); the conflict check still sees them all.
    churn = settings["churn-actito"]
    score, value = (FieldMapping(source="s", destination="churnScore"),
                    FieldMapping(source="v", destination="lifetimeValue"))
    variants = {
        "a": dataclasses.replace(churn, fields=(score, value)),
        "b": dataclasses.replace(churn, fields=(value, score)),
        "c": dataclasses.replace(churn, fields=(value,)),
        "d": dataclasses.replace(churn, fields=(score, value), etl_id="42"),
        "e": dataclasses.replace(churn, fields=(score, value), empty_values=EmptyValues.SKIP),
    }
    groups = import_groups([_planned(n) for n in variants], dict.fromkeys(variants, TABLE),
                           variants, sends_updates)
    assert [(g.activations, g.columns, g.etl_id, g.empty_values) for g in groups] == [
        (("a", "b"), ("churnScore", "lifetimeValue"), None, EmptyValues.CLEAR),
        (("c",), ("lifetimeValue",), None, EmptyValues.CLEAR),
        (("d",), ("churnScore", "lifetimeValue"), "42", EmptyValues.CLEAR),
        (("e",), ("churnScore", "lifetimeValue"), None, EmptyValues.SKIP)]
    assert table_clusters(groups) == [(TABLE, ("a", "b", "c", "d", "e"))]


@pytest.mark.parametrize(("used", "refused", "remaining"), [
    (0, False, 12), (11, False, 1), (12, False, 0), (14, False, 0), (3, True, 0)])
def test_remaining_budget(used: int, refused: bool, remaining: int) -> None:
    # Scenario: what is left of 12 imports, and a day Actito itself said was used up.
    assert BudgetUse(TABLE, DAY, used, refused).remaining == remaining


def test_deferral_message_names_the_use_and_the_next_utc_midnight() -> None:
    # Scenario: the 12th import was the last of the day.
    use = BudgetUse(TABLE, DAY, 12)
    assert use.next_slot == dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    assert use.deferral() == ("attribute updates wait for the next import slot (12/12 ETL "
                              "imports used on table Profiles today; next slot 2026-11-28 "
                              "00:00 UTC)")


def test_groups_claim_the_budget_in_order() -> None:
    # Scenario: one import left on the table: the first group gets it, the second waits.
    first = ImportGroup(TABLE, "customerId", ("a",))
    second = ImportGroup(TABLE, "gsmNumber", ("b",))
    budgets = {TABLE: BudgetUse(TABLE, DAY, 11)}
    assert deferred_groups([first, second], budgets) == {second: BudgetUse(TABLE, DAY, 12)}
    assert deferred_groups([first], budgets) == {}


@pytest.mark.parametrize(("total", "rows", "expected"), [
    (WriteResult(10, 10), [10], [WriteResult(10, 10)]),
    (WriteResult(10, 8, 0, 2), [10], [WriteResult(10, 8, 0, 2)]),
    (WriteResult(30, 27, 0, 3), [20, 10], [WriteResult(20, 18, 0, 2), WriteResult(10, 9, 0, 1)]),
    (WriteResult(3, 2, 0, 1), [1, 1, 1], [WriteResult(1, 0, 0, 1), WriteResult(1, 1),
                                          WriteResult(1, 1)]),
])
def test_import_totals_are_shared_out(total: WriteResult, rows: list[int],
                                      expected: list[WriteResult]) -> None:
    # Scenario: one import's rejected lines, attributed in proportion to each share's rows.
    assert share_out(total, rows) == expected
    assert sum(r.rejected for r in share_out(total, rows)) == total.rejected


def _updates(conn: duckdb.DuckDBPyConnection, prefix: str, column: str,
             rows: list[tuple[str, object]]) -> DiffTables:
    tables = DiffTables(prefix)
    conn.execute(f'CREATE TABLE "{tables.updates}" (member_key VARCHAR, "{column}" DOUBLE)')
    conn.executemany(f'INSERT INTO "{tables.updates}" VALUES (?, ?)', rows)
    return tables


def test_conflicting_values_for_one_attribute_are_found(
        settings: dict[str, EffectiveActivation]) -> None:
    # Scenario: two activations both map churnScore; they disagree on one profile of two shared.
    conn = duckdb.connect()
    tables = {"churn-actito": _updates(conn, "a", "churnScore", [("k1", 0.5), ("k2", 0.1)]),
              "twin": _updates(conn, "b", "churnScore", [("k1", 0.5), ("k2", 0.9), ("k3", 1)])}
    both = {**settings, "twin": settings["churn-actito"]}
    names = ("churn-actito", "twin")
    found = find_conflicts(conn, "Profiles", names, both, tables.__getitem__)
    assert [name for name, _ in found] == ["churn-actito", "twin"]
    assert found[0][1].startswith("sets churnScore of 1 profiles to other values than "
                                  "activation twin, and both update table Profiles")
    conn.execute('UPDATE "b_updates" SET "churnScore" = 0.1 WHERE member_key = \'k2\'')
    assert find_conflicts(conn, "Profiles", names, both, tables.__getitem__) == []


def test_deferred_rows_are_recorded_without_a_hash() -> None:
    # Scenario: k2's update waits: the snapshot keeps k1's hash and none for k2.
    conn = duckdb.connect()
    tables = DiffTables("a")
    conn.execute('CREATE TABLE a_members AS SELECT * FROM (VALUES (\'k1\', \'h1\'), '
                 '(\'k2\', \'h2\')) AS t(member_key, attributes_hash)')
    conn.execute("CREATE TABLE a_updates AS SELECT 'k2' AS member_key, 5 AS x")
    name = without_hashes_of_updates(conn, tables)
    assert conn.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall() == [
        ("k1", "h1"), ("k2", None)]
