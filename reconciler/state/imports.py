"""The bulk-import ledger: every import started per profile table and UTC day, and the runs
whose attribute updates waited for the next day's budget.

Owns the `import_executions` and `deferred_updates` tables (migration 5). Counting imports
against a quota and deciding to defer are the executor's; this only records and reads. Neither
table bumps serials: a plan's change sets do not depend on them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.state.backend import Backend
from reconciler.state.records import DeferredUpdates, ImportExecution
from reconciler.state.schema import utc_aware, utc_naive

_EXECUTION_COLUMNS = ("account, profile_table, day, started_at, execution_id, activations, "
                      "row_count, refused")
_DEFERRED_COLUMNS = "run_id, activation, account, profile_table, row_count, used, budget, until_at"


def record_execution(backend: Backend, execution: ImportExecution) -> None:
    with backend.transaction():
        backend.execute(
            f"INSERT INTO import_executions ({_EXECUTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [execution.account, execution.profile_table, execution.day,
             utc_naive(execution.started_at), execution.execution_id,
             ",".join(execution.activations), execution.rows, execution.refused])


def read_executions(backend: Backend, account: str, profile_table: str,
                    day: dt.date) -> tuple[ImportExecution, ...]:
    rows = backend.query(
        f"SELECT {_EXECUTION_COLUMNS} FROM import_executions "
        "WHERE account = ? AND profile_table = ? AND day = ? ORDER BY started_at",
        [account, profile_table, day])
    return tuple(_execution(row) for row in rows)


def _execution(row: tuple[Any, ...]) -> ImportExecution:
    account, table, day, started_at, execution_id, activations, count, refused = row
    return ImportExecution(str(account), str(table), _date(day), utc_aware(started_at),
                           str(execution_id), tuple(a for a in str(activations).split(",") if a),
                           int(count), bool(refused))


def _date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def record_deferral(backend: Backend, deferred: DeferredUpdates) -> None:
    with backend.transaction():
        backend.execute(
            f"INSERT INTO deferred_updates ({_DEFERRED_COLUMNS}, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [deferred.run_id, deferred.activation, deferred.account, deferred.profile_table,
             deferred.rows, deferred.used, deferred.budget, utc_naive(deferred.until),
             backend.now()])


def read_deferral(backend: Backend, run_id: str) -> DeferredUpdates | None:
    rows = backend.query(
        f"SELECT {_DEFERRED_COLUMNS} FROM deferred_updates WHERE run_id = ?", [run_id])
    if not rows:
        return None
    run, activation, account, table, count, used, budget, until = rows[0]
    return DeferredUpdates(str(run), str(activation), str(account), str(table), int(count),
                           int(used), int(budget), utc_aware(until))
