"""Applying an activation's plan to Actito: attributes, target list, members, profile values.

Members are replaced by dropping the whole key file (Actito lists are replaced, not patched);
profile values go through UPDATE_ONLY ETL executions. No profile is ever created.
"""
from __future__ import annotations

import duckdb

from reconciler.destinations.actito.adapter import ActitoAdapter
from reconciler.destinations.actito.models import AttributeSpec
from reconciler.destinations.actito.observer import ACTITO_VALUE_TYPES
from reconciler.destinations.base import WriteResult
from reconciler.destinations.rows import iter_keys, iter_rows
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration
from reconciler.planning.diff import DiffTables, count_rows
from reconciler.planning.plan import ResourceChange, ResourceType


class ActitoWriter:
    def __init__(self, adapter: ActitoAdapter) -> None:
        self.adapter = adapter

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...]) -> None:
        wanted = {r.name for r in resources if r.type is ResourceType.ACTITO_ATTRIBUTE}
        specs = [AttributeSpec(m.destination, ACTITO_VALUE_TYPES[m.type])
                 for m in activation.fields if m.destination in wanted and m.type is not None]
        if specs:
            self.adapter.ensure_attributes(specs)
        if any(r.type is ResourceType.ACTITO_TARGET_LIST for r in resources):
            self.adapter.ensure_target_list(activation.audience_name, _key(activation),
                                            parse_duration(activation.validity_period or "2d"))

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables) -> WriteResult:
        if not count_rows(conn, tables.adds) and not count_rows(conn, tables.removes):
            return WriteResult(0, 0)
        report = self.adapter.replace_members(activation.audience_name,
                                              iter_keys(conn, tables.members))
        assert report is not None  # waited for
        return WriteResult(report.lines, report.matched, report.unmatched)

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables) -> WriteResult:
        fields = [f.destination for f in activation.fields]
        if not fields or not count_rows(conn, tables.updates):
            return WriteResult(0, 0)
        rows = iter_rows(conn, tables.updates, ["member_key", *fields])
        report = self.adapter.update_profiles(_key(activation), fields, rows)
        return WriteResult(report.lines, report.updated + report.unchanged, 0, report.rejected)

    def close(self) -> None:
        """Nothing to release."""


def _key(activation: EffectiveActivation) -> str:
    assert activation.match_key is not None
    return activation.match_key.destination
