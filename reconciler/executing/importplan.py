"""What a plan says about shared imports and the daily import budget (importbudget.py).

Two things the planner cannot see one activation at a time, added to a built plan:
- **conflicts**: activations updating one table by one key that set the same attribute of
  the same profile to different values in this run. One file cannot carry both, two imports
  would let the last one win, and picking one would hide a mapping mistake: both activations
  get a plan error naming the attribute, the other activation and how many profiles (never
  which), so apply writes neither;
- **deferrals**: a group whose import no longer fits the table's budget today gets a warning
  on each of its activations ("attribute updates wait for the next import slot …").

Reads the plan's change-set tables in the workspace and the state store's ledger; writes
nothing.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence

import duckdb

from reconciler.changes.tables import DiffTables
from reconciler.executing.importbudget import (
    deferred_groups,
    import_groups,
    read_budget,
    sends_updates,
    table_clusters,
)
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.plan import Plan
from reconciler.state import StateReader


def annotate_imports(plan: Plan, reader: StateReader,
                     conn: duckdb.DuckDBPyConnection, tables_of: Callable[[str], DiffTables],
                     now: dt.datetime) -> Plan:
    """The plan with import conflicts as errors and budget deferrals as warnings."""
    settings = {p.activation: p.settings for p in plan.activations if p.settings}
    targets = {p.activation: p.import_target for p in plan.activations if p.import_target}
    groups = import_groups(plan.activations, targets, settings, sends_updates)
    errors: dict[str, list[str]] = {}
    for target, names in table_clusters(groups):
        for name, message in find_conflicts(conn, target.table, names, settings, tables_of):
            errors.setdefault(name, []).append(message)
    if errors:  # the others still go out
        groups = import_groups(plan.activations, targets, settings,
                               lambda p: sends_updates(p) and p.activation not in errors)
    budgets = {g.target: read_budget(reader, g.target, now) for g in groups}
    warnings = {name: use.deferral()
                for group, use in deferred_groups(groups, budgets).items()
                for name in group.activations}
    if not errors and not warnings:
        return plan
    activations = tuple(
        a.model_copy(update={"error": "; ".join(errors[a.activation])})
        if a.activation in errors else
        a.model_copy(update={"warnings": (*a.warnings, warnings[a.activation])})
        if a.activation in warnings else a
        for a in plan.activations)
    return plan.model_copy(update={"activations": activations})


def find_conflicts(conn: duckdb.DuckDBPyConnection, table: str, activations: Sequence[str],
                   settings: Mapping[str, EffectiveActivation],
                   tables_of: Callable[[str], DiffTables]) -> list[tuple[str, str]]:
    """(activation, message) for each of `activations` (on one table, by one key) that sets
    an attribute of a profile to another value than a second one does in the same run."""
    found = []
    for first, second in itertools.combinations(activations, 2):
        shared = sorted({f.destination for f in settings[first].fields}
                        & {f.destination for f in settings[second].fields})
        if not shared:
            continue
        differs = " OR ".join(f'CAST(a."{f}" AS VARCHAR) IS DISTINCT FROM CAST(b."{f}" AS VARCHAR)'
                              for f in shared)
        rows = conn.execute(
            f'SELECT count(*) FROM "{tables_of(first).updates}" AS a '
            f'JOIN "{tables_of(second).updates}" AS b USING (member_key) WHERE {differs}'
        ).fetchall()
        profiles = int(rows[0][0])
        if not profiles:
            continue
        for one, other in ((first, second), (second, first)):
            found.append((one, (
                f"sets {', '.join(shared)} of {profiles:,} profiles to other values than "
                f"activation {other}, and both update table {table} in this run: map an "
                "attribute from one activation only, or keep their audiences apart")))
    return found
