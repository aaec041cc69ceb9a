"""Applying an activation's plan to Selligent: segment, fields, members, field values.

Rows go out in batches of the list's `maxRowsPerLoad`, `concurrency` batches at a time (the
client paces every call under `requestsPerSecond`), each journaled before and after it is sent
(see executing/journal.py). It never inserts a contact: segment loads reference existing
records, field updates use OnlyUpdate.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import duckdb

from reconciler.changes.journal import Journal, JournalStep, keys_fingerprint
from reconciler.changes.resources import ResourceChange, ResourceType
from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import WriteResult
from reconciler.destinations.rows import iter_batches, iter_rows
from reconciler.destinations.selligent.adapter import FieldSpec, SelligentAdapter
from reconciler.destinations.selligent.observer import SELLIGENT_FIELD_TYPES, created_length
from reconciler.manifests.models import FieldType
from reconciler.manifests.settings import EffectiveActivation


class SelligentWriter:
    def __init__(self, adapter: SelligentAdapter, batch_rows: int, *,
                 concurrency: int = 1) -> None:
        self.adapter = adapter
        self.batch_rows = batch_rows
        self.concurrency = concurrency  # batches in flight at once (the client paces calls)
        self._ahead = ReadAhead(batch_rows)

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...], journal: Journal) -> None:
        wanted = {r.name for r in resources if r.type is ResourceType.SELLIGENT_FIELD}
        specs = [FieldSpec(m.destination, SELLIGENT_FIELD_TYPES[m.type],
                           created_length(m.length) if m.type is FieldType.STRING else None)
                 for m in activation.fields if m.destination in wanted and m.type is not None]
        with journal.batch(JournalStep.CREATE_RESOURCES, len(resources)):
            if specs:
                self.adapter.create_missing_fields(specs)
            for resource in resources:
                if resource.type is ResourceType.SELLIGENT_SEGMENT:  # named by the plan
                    self.adapter.create_static_segment(resource.name, activation.audience_name,
                                                       activation.description or "")

    def delete_resources(self, resources: tuple[ResourceChange, ...],
                         journal: Journal) -> None:
        with journal.batch(JournalStep.DELETE_RESOURCES, len(resources)):
            for resource in resources:
                if resource.type is ResourceType.SELLIGENT_SEGMENT:
                    self.adapter.delete_static_segment(resource.name)

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        key, segment = _key(activation), activation.selligent_api_name

        def add(keys: list[str]) -> WriteResult:
            result = self.adapter.add_segment_members(segment, key, keys)
            confirmed = result.inserted + result.updated + result.duplicates
            return WriteResult(len(keys), confirmed, result.not_found, result.failed)

        def remove(keys: list[str]) -> WriteResult:
            result = self.adapter.remove_segment_members(segment, key, keys)
            return WriteResult(len(keys), result.deleted, result.not_found, result.failed)

        self._ahead.clear()
        fields = [f.destination for f in activation.fields]
        updates = [(tables.updates, ["member_key", *fields])] if fields else []
        added = self._send(journal, JournalStep.ADD_MEMBERS, conn, tables.adds, ["member_key"],
                           lambda rows: add([str(r[0]) for r in rows]),
                           then=[(tables.removes, ["member_key"]), *updates])
        removed = self._send(journal, JournalStep.REMOVE_MEMBERS, conn, tables.removes,
                             ["member_key"], lambda rows: remove([str(r[0]) for r in rows]),
                             then=updates)
        return added.plus(removed)

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        fields = [f.destination for f in activation.fields]
        if not fields:
            return WriteResult(0, 0)

        def update(rows: list[list[Any]]) -> WriteResult:
            result = self.adapter.update_contact_fields(_key(activation), fields, rows)
            return WriteResult(len(rows), result.updated, result.not_found, result.failed)

        return self._send(journal, JournalStep.UPDATE_PROFILES, conn, tables.updates,
                          ["member_key", *fields], update)

    def _send(self, journal: Journal, step: JournalStep, conn: duckdb.DuckDBPyConnection,
              table: str, columns: list[str], call: Callable[[list[list[Any]]], WriteResult],
              then: Sequence[tuple[str, list[str]]] = ()) -> WriteResult:
        """Send `table` in journaled batches, `concurrency` at a time, paced; the first error
        stops the step (batches in flight finish and are journaled). Once its last batch is
        sent, the first batch of the next step with rows (`then`) is read while it waits."""
        def one(batch: list[list[Any]]) -> WriteResult:
            fingerprint = keys_fingerprint(str(row[0]) for row in batch)
            with journal.batch(step, len(batch), fingerprint) as handle:
                result = call(batch)
                handle.confirm(result.applied)
            return result

        total = WriteResult(0, 0)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            pending: set[Future[WriteResult]] = set()
            for batch in self._ahead.batches(conn, table, columns):
                if len(pending) >= self.concurrency:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    total = _collect(total, done)
                pending.add(pool.submit(one, batch))
            self._ahead.read(conn, then)
            return _collect(total, wait(pending).done)

    def close(self) -> None:
        self._ahead.clear()
        self.adapter.close()


class ReadAhead:
    """The first batch of the next step, read out of DuckDB while the last batches of the
    current one are in flight, so the calls do not stop between steps (at 10 calls a second,
    reading a first batch is most of a call's slot)."""

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = batch_rows
        self._ready: dict[str, Iterator[list[list[Any]]]] = {}  # by table

    def read(self, conn: duckdb.DuckDBPyConnection,
             steps: Sequence[tuple[str, list[str]]]) -> None:
        """Read ahead the first of `steps` (table, columns) that has rows."""
        for table, columns in steps:
            batches = self._ready.pop(table, None) or self._open(conn, table, columns)
            first = next(batches, None)
            self._ready[table] = iter([]) if first is None else itertools.chain([first], batches)
            if first is not None:
                return

    def batches(self, conn: duckdb.DuckDBPyConnection, table: str,
                columns: list[str]) -> Iterator[list[list[Any]]]:
        return self._ready.pop(table, None) or self._open(conn, table, columns)

    def _open(self, conn: duckdb.DuckDBPyConnection, table: str,
              columns: list[str]) -> Iterator[list[list[Any]]]:
        return iter_batches(iter_rows(conn, table, columns), self.batch_rows)

    def clear(self) -> None:
        """Forget what was read ahead (an apply that stopped early)."""
        for batches in self._ready.values():
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        self._ready.clear()


def _collect(total: WriteResult, done: set[Future[WriteResult]]) -> WriteResult:
    for future in done:
        total = total.plus(future.result())  # re-raises a batch's error
    return total


def _key(activation: EffectiveActivation) -> str:
    return activation.match_key.destination
