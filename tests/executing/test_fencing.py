"""The executor under a lock it loses midway (issue 17.1): the journal's fenced entry stops the
next batch before it is sent, and nothing of the run is recorded as applied."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from reconciler.changes.journal import Journal, JournalStep
from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import WriteResult
from reconciler.executing.executor import Executor, Outcome
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Workspace
from reconciler.state import RunStatus, StateWriter, open_state_store
from tests.executing.test_executor import NOW, REPO, RecordingWriter, _planned


class PausedWriter(RecordingWriter):
    """Sends members in two batches; between them (a long pause) another apply takes the
    lock over, as after a lapsed lease."""

    def __init__(self, take_over: Callable[[], None]) -> None:
        super().__init__()
        self.take_over = take_over
        self.sent: list[int] = []

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        for number in (1, 2):
            if number == 2:
                self.take_over()
            with journal.batch(JournalStep.ADD_MEMBERS, 1):
                self.sent.append(number)
        return WriteResult(2, 2)


@pytest.fixture(scope="module")
def vip() -> EffectiveActivation:
    project, _ = load_project(REPO / "manifests")
    return effective_activations(project)["vip-selligent"]


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    space = Workspace()
    yield space
    space.close()


def test_a_holder_that_lost_its_lock_sends_no_further_batch(
        vip: EffectiveActivation, workspace: Workspace, tmp_path: Path) -> None:
    # Scenario: apply A pauses between two member batches; meanwhile its lock is broken and
    # apply B takes it. A's second batch is refused by the store before it is sent; A fails
    # saying so, writes no snapshot, and leaves its run for B to resume.
    location = tmp_path / "state.duckdb"
    with open_state_store(location) as state, open_state_store(location) as other:
        def take_over() -> None:
            other.break_lock(vip.name)
            other.acquire_lock(vip.name, "apply B", 60)

        writer = PausedWriter(take_over)
        executor = Executor(workspace, {vip.destination: writer}, state, clock=lambda: NOW)
        [result] = executor.apply_plan(
            Plan(created_at=NOW, activations=(_planned(vip, workspace),)))
        assert result.outcome is Outcome.FAILED
        assert "lost the lock of activation 'vip-selligent'" in result.message
        assert "now held by apply B" in result.message
        assert writer.sent == [1]
        assert _recorded(other, vip.name) == (None, [RunStatus.RUNNING])
        assert [lock.owner for lock in other.locks()] == ["apply B"]


def _recorded(store: StateWriter, name: str) -> tuple[object, list[RunStatus]]:
    return store.snapshot_info(name), [run.status for run in store.runs(name)]
