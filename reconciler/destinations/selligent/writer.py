"""Applying an activation's plan to Selligent: segment, fields, members, field values.

The writer is driven by the executor with the plan's change-set tables; it never inserts a
contact (segment loads reference existing records; field updates use OnlyUpdate).
"""
from __future__ import annotations

import duckdb

from reconciler.destinations.base import WriteResult
from reconciler.destinations.rows import iter_keys, iter_rows
from reconciler.destinations.selligent.adapter import FieldSpec, SelligentAdapter
from reconciler.destinations.selligent.observer import SELLIGENT_FIELD_TYPES
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.diff import DiffTables, count_rows
from reconciler.planning.plan import ResourceChange, ResourceType


class SelligentWriter:
    def __init__(self, adapter: SelligentAdapter) -> None:
        self.adapter = adapter

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...]) -> None:
        wanted = {r.name for r in resources if r.type is ResourceType.SELLIGENT_FIELD}
        specs = [FieldSpec(m.destination, SELLIGENT_FIELD_TYPES[m.type])
                 for m in activation.fields if m.destination in wanted and m.type is not None]
        if specs:
            self.adapter.create_missing_fields(specs)
        if any(r.type is ResourceType.SELLIGENT_SEGMENT for r in resources):
            self.adapter.create_static_segment(activation.audience_name,
                                               activation.description or "")

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables) -> WriteResult:
        key = _key(activation)
        segment = activation.selligent_api_name
        added = self.adapter.add_segment_members(segment, key, iter_keys(conn, tables.adds))
        removed = self.adapter.remove_segment_members(segment, key,
                                                      iter_keys(conn, tables.removes))
        sent = count_rows(conn, tables.adds) + count_rows(conn, tables.removes)
        applied = added.inserted + added.updated + added.duplicates + removed.deleted
        return WriteResult(sent, applied, added.not_found + removed.not_found,
                           added.failed + removed.failed)

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables) -> WriteResult:
        fields = [f.destination for f in activation.fields]
        if not fields:
            return WriteResult(0, 0)
        rows = iter_rows(conn, tables.updates, ["member_key", *fields])
        result = self.adapter.update_contact_fields(_key(activation), fields, rows)
        return WriteResult(count_rows(conn, tables.updates), result.updated, result.not_found,
                           result.failed)

    def close(self) -> None:
        self.adapter.close()


def _key(activation: EffectiveActivation) -> str:
    assert activation.match_key is not None
    return activation.match_key.destination
