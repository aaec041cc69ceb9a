"""Applying an activation's plan to Actito: attributes, target list, members, profile values.

Members are replaced by dropping the whole key file (Actito lists are replaced, not patched):
one journaled batch. Profile values go through UPDATE_ONLY ETL executions of one CSV each
(updates.py), as few as the file cap allows (the daily import quota is scarce): the executor
sends those of the activations of a run that fit one CSV together (`prepare_import` /
`run_import_file`; executing/importbudget.py says which). No profile is created. An execution
that ended WITH_ERROR comes back `unsettled`: which of its rows Actito rejected is
undocumented, so none is recorded as applied.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from reconciler.changes.journal import Journal, JournalStep
from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.changes.tables import DiffTables, count_rows
from reconciler.destinations.actito import updates
from reconciler.destinations.actito.adapter import ActitoAdapter
from reconciler.destinations.actito.models import AttributeSpec, UpdateReport
from reconciler.destinations.actito.observer import ACTITO_VALUE_TYPES
from reconciler.destinations.actito.targeting import list_target
from reconciler.destinations.base import UpdateShare, WriteResult
from reconciler.destinations.rows import iter_keys
from reconciler.manifests.settings import EffectiveActivation


class ActitoWriter:
    def __init__(self, adapter: ActitoAdapter) -> None:
        self.adapter = adapter

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...], journal: Journal) -> None:
        wanted = {r.name for r in resources if r.type is ResourceType.ACTITO_ATTRIBUTE}
        specs = [AttributeSpec(m.destination, ACTITO_VALUE_TYPES[m.type])
                 for m in activation.fields if m.destination in wanted and m.type is not None]
        with journal.batch(JournalStep.CREATE_RESOURCES, len(resources)):
            if specs:
                self.adapter.ensure_attributes(specs)
            target = list_target(activation)
            # A list set up in the portal is never created here; a refresh (`~`) is the key
            # file apply_members drops anyway.
            if target.managed_by_api and any(
                    r.type is ResourceType.ACTITO_TARGET_LIST
                    and r.action in (Action.CREATE, Action.REPLACE)
                    for r in resources):
                self.adapter.ensure_target_list(target)

    def delete_resources(self, resources: tuple[ResourceChange, ...],
                         journal: Journal) -> None:
        with journal.batch(JournalStep.DELETE_RESOURCES, len(resources)):
            for resource in resources:
                if resource.type is not ResourceType.ACTITO_TARGET_LIST:
                    continue
                if self.adapter.routes.documented_only:
                    # Deleting a list is undocumented: empty it with an empty key file (the
                    # documented way), named by the default pattern; the list itself is
                    # deleted in the portal.
                    self.adapter.empty_target_list(resource.name)
                else:
                    self.adapter.delete_target_list(resource.name)

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        # Always the whole list: a file also renews the list's validity (a plan with any change
        # for this activation, a file refresh included, drops one).
        members = count_rows(conn, tables.members)
        with journal.batch(JournalStep.ADD_MEMBERS, members) as handle:
            report = self.adapter.replace_members(list_target(activation),
                                                  iter_keys(conn, tables.members))
            handle.confirm(report.matched)
        return WriteResult(report.lines, report.matched, report.unmatched,
                           unconfirmed=not report.confirmed)

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult:
        """One activation's updates alone, outside the import budget: the executor sends them
        through `prepare_import`/`run_import_file` instead (shared and counted)."""
        updates_count = count_rows(conn, tables.updates)
        if not activation.fields or not updates_count:
            return WriteResult(0, 0)
        share = UpdateShare(activation, tables, updates_count)
        total = WriteResult(0, 0)
        with journal.batch(JournalStep.UPDATE_PROFILES, updates_count) as handle, \
                tempfile.TemporaryDirectory(prefix="actito-") as folder:
            for part in self.prepare_import([share], conn, Path(folder)):
                total = total.plus(self.run_import_file(part, [share], lambda _id: None))
            handle.confirm(total.applied)
        return total

    def prepare_import(self, shares: Sequence[UpdateShare], conn: duckdb.DuckDBPyConnection,
                       folder: Path) -> list[Path]:
        return updates.write_share_files(self.adapter, shares, conn, folder)

    def run_import_file(self, part: Path, shares: Sequence[UpdateShare],
                        on_started: Callable[[str], None]) -> WriteResult:
        return _result(updates.run_share_file(self.adapter, part, shares, on_started))

    def close(self) -> None:
        """Nothing to release."""


def _key(activation: EffectiveActivation) -> str:
    return activation.match_key.destination


def _result(report: UpdateReport) -> WriteResult:
    return WriteResult(report.lines, report.updated + report.unchanged, 0, report.rejected,
                       unsettled=report.unsettled)
