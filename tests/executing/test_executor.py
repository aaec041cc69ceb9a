"""The executor on fakes: a recording writer, a real (local DuckDB) state store, plans built
by hand. No sandbox, no source: what apply does is decided by the Plan alone."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.changes.journal import Journal, JournalStep
from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import WriteResult
from reconciler.destinations.errors import PermanentApiError
from reconciler.executing.executor import Executor, Outcome
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.planning.plan import ActivationPlan, AttributeChange, MembershipChange, Plan
from reconciler.planning.planner import Workspace
from reconciler.state import RunStatus, StateWriter, open_state_store

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


class RecordingWriter:
    """A destination writer that records what it was asked, journals one batch per step,
    and fails when told to."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (method, activation, remote name)
        self.fail_on = fail_on

    def _record(self, method: str, activation: EffectiveActivation, journal: Journal,
                step: JournalStep, rows: int) -> WriteResult:
        self.calls.append((method, activation.name, activation.selligent_api_name))
        with journal.batch(step, rows):
            if self.fail_on == activation.name:
                raise PermanentApiError("refused", destination="fake", call="POST /x")
        return WriteResult(rows, rows)

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...], journal: Journal) -> None:
        self._record("create_resources", activation, journal, JournalStep.CREATE_RESOURCES,
                     len(resources))

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        return self._record("apply_members", activation, journal, JournalStep.ADD_MEMBERS, 2)

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        return self._record("apply_updates", activation, journal, JournalStep.UPDATE_PROFILES,
                            1)

    def delete_resources(self, resources: tuple[ResourceChange, ...], journal: Journal) -> None:
        raise AssertionError("nothing is removed in these plans")

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def vip() -> EffectiveActivation:
    project, _ = load_project(REPO / "manifests")
    return effective_activations(project)["vip-selligent"]


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    space = Workspace()
    yield space
    space.close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateWriter]:
    with open_state_store(tmp_path / "state.duckdb") as store:
        yield store


def _planned(settings: EffectiveActivation, workspace: Workspace, **extra: object
             ) -> ActivationPlan:
    """A plan of 2 adds and 1 update, its change-set tables in the workspace."""
    tables = workspace.tables_of(settings.name)
    workspace.conn.execute(f'CREATE OR REPLACE TABLE "{tables.members}" AS SELECT * FROM '
                           "(VALUES ('k1', 'h1'), ('k2', 'h2')) t(member_key, attributes_hash)")
    resource = ResourceChange(action=Action.CREATE, type=ResourceType.SELLIGENT_SEGMENT,
                              name=settings.selligent_api_name, reason="not found")
    return ActivationPlan(
        activation=settings.name, destination=settings.destination,
        destination_type=settings.destination_type, target="fake", remote_name="x",
        resources=(resource,), members=MembershipChange(desired=2, matched=2, adds=2, removes=0),
        attributes=AttributeChange(updates=1, fields=("LTV",)), settings=settings, **extra)


def _executor(workspace: Workspace, writer: RecordingWriter, state: StateWriter,
              destination: str) -> Executor:
    return Executor(workspace, {destination: writer}, state, clock=lambda: NOW)


def test_apply_writes_with_the_settings_the_plan_carries(vip: EffectiveActivation,
                                                         workspace: Workspace,
                                                         state: StateWriter) -> None:
    # Scenario: the plan's settings name an audience the manifests never had: apply writes
    # that one (it executes the plan; it re-derives nothing), then records a snapshot and run.
    renamed = dataclasses.replace(vip, audience_name="2024 VIP")
    writer = RecordingWriter()
    [result] = _executor(workspace, writer, state, vip.destination).apply_plan(
        Plan(created_at=NOW, activations=(_planned(renamed, workspace),)))
    assert result.outcome is Outcome.APPLIED, result.message
    assert writer.calls == [(m, vip.name, "_2024_VIP")
                            for m in ("create_resources", "apply_members", "apply_updates")]
    assert state.snapshot_info(vip.name).members == 2  # type: ignore[union-attr]
    [run] = state.runs(vip.name)
    assert run.status is RunStatus.SUCCEEDED and run.started_at == NOW


def test_a_guard_stops_before_any_write_unless_allowed(vip: EffectiveActivation,
                                                       workspace: Workspace,
                                                       state: StateWriter) -> None:
    # Scenario: the plan carries a maxRemovalRatio verdict: nothing is written and the result
    # carries the verdict as data; with --allow-mass-removal the same plan is applied.
    stop = GuardStop(kind=GuardKind.MAX_REMOVAL_RATIO, activation=vip.name, measured=0.5,
                     limit=0.1)
    plan = Plan(created_at=NOW, activations=(_planned(vip, workspace, stops=(stop,)),))
    writer = RecordingWriter()
    [stopped] = _executor(workspace, writer, state, vip.destination).apply_plan(plan)
    assert stopped.outcome is Outcome.STOPPED and stopped.stops == (stop,)
    assert "over maxRemovalRatio 10% (nothing written" in stopped.message
    assert writer.calls == [] and state.runs(vip.name)[0].status is RunStatus.STOPPED
    [allowed] = _executor(workspace, writer, state, vip.destination).apply_plan(
        plan, allow_mass_removal=True)
    assert allowed.outcome is Outcome.APPLIED and len(writer.calls) == 3


def test_a_failing_activation_stops_only_itself_unless_fail_fast(vip: EffectiveActivation,
                                                                 workspace: Workspace,
                                                                 state: StateWriter) -> None:
    # Scenario: the writer refuses the first activation's members: it fails (run FAILED,
    # journal entry failed), the second still applies; with fail_fast it is not attempted.
    other = dataclasses.replace(vip, name="vip-two", audience_name="VIP two")
    plan = Plan(created_at=NOW, activations=(_planned(vip, workspace),
                                             _planned(other, workspace)))
    writer = RecordingWriter(fail_on=vip.name)
    first, second = _executor(workspace, writer, state, vip.destination).apply_plan(plan)
    assert first.outcome is Outcome.FAILED and "refused" in first.message
    assert second.outcome is Outcome.APPLIED
    assert state.runs(vip.name)[0].status is RunStatus.FAILED
    again = _executor(workspace, RecordingWriter(fail_on=vip.name), state,
                      vip.destination).apply_plan(plan, fail_fast=True)
    assert [r.outcome for r in again] == [Outcome.FAILED, Outcome.NOT_ATTEMPTED]


def test_a_plan_error_is_recorded_and_nothing_is_written(vip: EffectiveActivation,
                                                         workspace: Workspace,
                                                         state: StateWriter) -> None:
    # Scenario: an activation the plan could not plan fails at apply without a write call.
    plan = Plan(created_at=NOW, activations=(_planned(vip, workspace, error="no source"),))
    writer = RecordingWriter()
    [result] = _executor(workspace, writer, state, vip.destination).apply_plan(plan)
    assert result.outcome is Outcome.FAILED and result.message == "no source"
    assert writer.calls == [] and state.runs(vip.name)[0].error == "no source"
