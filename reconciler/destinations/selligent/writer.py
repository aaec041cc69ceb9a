"""Applying an activation's plan to Selligent: segment, fields, members, field values.

Rows go out in batches of the list's `maxRowsPerLoad`, each journaled before and after it is
sent (see executing/journal.py). It never inserts a contact: segment loads reference existing
records, field updates use OnlyUpdate.
"""
from __future__ import annotations

import duckdb

from reconciler.destinations.base import WriteResult
from reconciler.destinations.rows import iter_batches, iter_rows
from reconciler.destinations.selligent.adapter import FieldSpec, SelligentAdapter
from reconciler.destinations.selligent.observer import SELLIGENT_FIELD_TYPES
from reconciler.executing.journal import BatchJournal, keys_fingerprint
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.diff import DiffTables
from reconciler.planning.plan import ResourceChange, ResourceType
from reconciler.state.records import JournalStep


class SelligentWriter:
    def __init__(self, adapter: SelligentAdapter, batch_rows: int) -> None:
        self.adapter = adapter
        self.batch_rows = batch_rows

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...], journal: BatchJournal) -> None:
        wanted = {r.name for r in resources if r.type is ResourceType.SELLIGENT_FIELD}
        specs = [FieldSpec(m.destination, SELLIGENT_FIELD_TYPES[m.type])
                 for m in activation.fields if m.destination in wanted and m.type is not None]
        with journal.batch(JournalStep.CREATE_RESOURCES, len(resources)):
            if specs:
                self.adapter.create_missing_fields(specs)
            if any(r.type is ResourceType.SELLIGENT_SEGMENT for r in resources):
                self.adapter.create_static_segment(activation.audience_name,
                                                   activation.description or "")

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: BatchJournal) -> WriteResult:
        key, segment = _key(activation), activation.selligent_api_name
        total = WriteResult(0, 0)
        for step, table in ((JournalStep.ADD_MEMBERS, tables.adds),
                            (JournalStep.REMOVE_MEMBERS, tables.removes)):
            for batch in iter_batches(iter_rows(conn, table, ["member_key"]), self.batch_rows):
                keys = [str(row[0]) for row in batch]
                with journal.batch(step, len(keys), keys_fingerprint(keys)) as handle:
                    if step is JournalStep.ADD_MEMBERS:
                        result = self.adapter.add_segment_members(segment, key, keys)
                        confirmed = result.inserted + result.updated + result.duplicates
                    else:
                        result = self.adapter.remove_segment_members(segment, key, keys)
                        confirmed = result.deleted
                    handle.confirm(confirmed)
                total = total.plus(WriteResult(len(keys), confirmed, result.not_found,
                                               result.failed))
        return total

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: BatchJournal) -> WriteResult:
        fields = [f.destination for f in activation.fields]
        total = WriteResult(0, 0)
        if not fields:
            return total
        rows = iter_rows(conn, tables.updates, ["member_key", *fields])
        for batch in iter_batches(rows, self.batch_rows):
            fingerprint = keys_fingerprint(str(row[0]) for row in batch)
            with journal.batch(JournalStep.UPDATE_PROFILES, len(batch), fingerprint) as handle:
                result = self.adapter.update_contact_fields(_key(activation), fields, batch)
                handle.confirm(result.updated)
            total = total.plus(WriteResult(len(batch), result.updated, result.not_found,
                                           result.failed))
        return total

    def close(self) -> None:
        self.adapter.close()


def _key(activation: EffectiveActivation) -> str:
    assert activation.match_key is not None
    return activation.match_key.destination
