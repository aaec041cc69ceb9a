"""Sending one import group's attribute updates: one import (one CSV) for the activations of a
run that fit one file (importbudget.py), inside the table's daily budget, or deferred to the
next slot.

The rules are in `importbudget.py`. Here: the files are written first (so the number of
imports is known), the budget is read from the state store's ledger, every import the
destination accepts is counted there at once (before waiting for it), a refusal for the quota
is counted as such and defers the group, and the import's totals are shared out among the
activations. Each activation journals the import as one UPDATE_PROFILES batch of its rows.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reconciler.changes.journal import JournalStep
from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import BulkImportWriter, UpdateShare, WriteResult
from reconciler.destinations.errors import QuotaExceededError
from reconciler.executing.importbudget import BudgetUse, ImportGroup, read_budget
from reconciler.executing.journal import BatchJournal
from reconciler.state import DeferredUpdates, ImportExecution, StateWriter


@dataclass(frozen=True)
class UpdatesDeferred:
    """An activation's attribute updates left for the next import slot."""

    rows: int
    budget: BudgetUse  # as it was when the updates were deferred


UpdateOutcome = WriteResult | UpdatesDeferred


class SharedImport:
    def __init__(self, state: StateWriter, clock: Callable[[], dt.datetime]) -> None:
        self.state, self.clock = state, clock

    def send(self, group: ImportGroup, writer: BulkImportWriter, conn: duckdb.DuckDBPyConnection,
             shares: Sequence[tuple[UpdateShare, BatchJournal]]) -> dict[str, UpdateOutcome]:
        """Each activation's outcome: what the destination confirmed, or deferred."""
        with tempfile.TemporaryDirectory(prefix="reconciler-import-") as folder:
            parts = writer.prepare_import([s for s, _ in shares], conn, Path(folder))
            budget = read_budget(self.state, group.target, self.clock())
            if budget.remaining < len(parts):
                return _deferred(shares, budget)
            try:
                total = self._run(group, writer, parts, shares)
            except QuotaExceededError:
                self._count(group, shares, "", refused=True)
                return _deferred(shares, read_budget(self.state, group.target, self.clock()))
        return dict(zip([s.activation.name for s, _ in shares],
                        share_out(total, [s.rows for s, _ in shares]), strict=True))

    def record_deferral(self, run_id: str, activation: str, deferred: UpdatesDeferred) -> None:
        """Say in the run's record that its updates wait, and until when."""
        budget = deferred.budget
        self.state.record_deferred_updates(DeferredUpdates(
            run_id, activation, budget.target.account, budget.target.table, deferred.rows,
            budget.used, budget.target.daily_budget, budget.next_slot))

    def _run(self, group: ImportGroup, writer: BulkImportWriter, parts: list[Path],
             shares: Sequence[tuple[UpdateShare, BatchJournal]]) -> WriteResult:
        total = WriteResult(0, 0)
        with contextlib.ExitStack() as stack:
            handles = [stack.enter_context(journal.batch(JournalStep.UPDATE_PROFILES, s.rows))
                       for s, journal in shares]
            for part in parts:
                total = total.plus(writer.run_import_file(
                    part, [s for s, _ in shares],
                    lambda execution_id: self._count(group, shares, execution_id)))
            for handle, applied in zip(handles, share_out(total, [s.rows for s, _ in shares]),
                                       strict=True):
                handle.confirm(applied.applied)
        return total

    def _count(self, group: ImportGroup, shares: Sequence[tuple[UpdateShare, BatchJournal]],
               execution_id: str, *, refused: bool = False) -> None:
        now = self.clock()
        self.state.record_import_execution(ImportExecution(
            group.target.account, group.target.table, now.astimezone(dt.UTC).date(), now,
            execution_id, tuple(s.activation.name for s, _ in shares),
            sum(s.rows for s, _ in shares), refused))


def _deferred(shares: Sequence[tuple[UpdateShare, BatchJournal]],
              budget: BudgetUse) -> dict[str, UpdateOutcome]:
    return {share.activation.name: UpdatesDeferred(share.rows, budget) for share, _ in shares}


def share_out(total: WriteResult, rows: Sequence[int]) -> list[WriteResult]:
    """Each activation's part of an import's totals. An import reports its lines as a whole,
    so rejected lines are shared out in proportion to each activation's rows (largest
    remainder: the parts add up to the total); exact for a group of one. An unsettled import
    leaves every activation in it unsettled (which rows were rejected is not known)."""
    if not rows:
        return []
    whole = sum(rows) or 1
    rejected = [total.rejected * r // whole for r in rows]
    order = sorted(range(len(rows)), key=lambda i: -(total.rejected * rows[i] % whole))
    for index in order[:total.rejected - sum(rejected)]:
        rejected[index] += 1
    return [WriteResult(r, max(0, r - x), 0, x, total.unsettled)
            for r, x in zip(rows, rejected, strict=True)]


def without_hashes_of_updates(conn: duckdb.DuckDBPyConnection, tables: DiffTables) -> str:
    """A table of the members to record when their attribute updates were not sent, or not
    all applied with no way to tell which (unsettled): the rows to update carry no hash, so
    the next plan finds them changed and sends them."""
    name = f"{tables.prefix}_applied"
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE "{name}" AS
        SELECT m.member_key,
               CASE WHEN u.member_key IS NULL THEN m.attributes_hash END AS attributes_hash
        FROM "{tables.members}" AS m
        LEFT JOIN (SELECT member_key FROM "{tables.updates}") AS u USING (member_key)''')
    return name
