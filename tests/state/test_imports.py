"""The bulk-import ledger: imports counted per table and UTC day, deferred updates per run."""
from __future__ import annotations

import datetime as dt

from reconciler.state import DeferredUpdates, ImportExecution, RunStatus
from tests.state.conftest import StateTarget

DAY = dt.date(2026, 11, 27)
T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def _execution(day: dt.date = DAY, table: str = "Profiles", refused: bool = False,
               at: dt.datetime = T0) -> ImportExecution:
    return ImportExecution("acme@api.actito.com", table, day, at, "" if refused else "e1",
                           ("churn", "vip"), 120, refused)


def test_imports_are_read_back_per_account_table_and_day(state: StateTarget) -> None:
    # Scenario: imports on two tables and two days; each query sees only its own day and table.
    later = T0 + dt.timedelta(hours=1)
    with state.writer() as store:
        store.record_import_execution(_execution())
        store.record_import_execution(_execution(refused=True, at=later))
        store.record_import_execution(_execution(table="Other"))
        store.record_import_execution(_execution(day=DAY + dt.timedelta(days=1)))
    with state.reader() as reader:
        found = reader.import_executions("acme@api.actito.com", "Profiles", DAY)
        assert found == (_execution(), _execution(refused=True, at=later))
        assert reader.import_executions("other@api.actito.com", "Profiles", DAY) == ()


def test_a_deferral_is_kept_per_run(state: StateTarget) -> None:
    # Scenario: a run defers its updates to the next UTC day; another run deferred nothing.
    until = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    with state.writer() as store:
        run = store.start_run("churn")
        store.finish_run(run, RunStatus.SUCCEEDED, counts={"updates_deferred": 3})
        deferred = DeferredUpdates(run, "churn", "acme@api.actito.com", "Profiles", 3, 12, 12,
                                   until)
        store.record_deferred_updates(deferred)
        other = store.start_run("churn")
    with state.reader() as reader:
        assert reader.deferred_updates(run) == deferred
        assert reader.deferred_updates(other) is None


def test_a_store_at_version_4_gains_the_ledger(state: StateTarget) -> None:
    # Scenario: a store made before the ledger existed is migrated by the next writer.
    with state.writer(migrate_to=4) as old:
        old.start_run("churn")
    with state.writer() as store:
        assert store.schema_version() >= 5
        store.record_import_execution(_execution())
        assert len(store.import_executions("acme@api.actito.com", "Profiles", DAY)) == 1
