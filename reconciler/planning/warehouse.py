"""Reading an activation's audience where its Source says to plan (`planIn`: PostgreSQL and
Snowflake can plan in the warehouse).

Owns the choice between a full read (`planIn: local`, and any `planIn: warehouse` whose
row-hash table does not describe the last apply — said in the plan's warnings) and the
incremental read of `reconciler.sources.incremental`, whose rows plus the snapshot's
unchanged members make the same desired table; and what the apply needs to keep the
warehouse's table (`WarehouseRead`, kept on the workspace by activation).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb

from reconciler.changes.tables import DiffTables
from reconciler.errors import ReconcilerError
from reconciler.manifests.models import Kind, PlanIn, PostgresSource, SnowflakeSource
from reconciler.manifests.project import Project
from reconciler.sources import (
    AudienceReport,
    AudienceSpec,
    Source,
    SqlFragment,
    build_audience_query,
    discover_columns,
    materialize_audience,
)
from reconciler.sources.dialects import Dialect
from reconciler.sources.incremental import (
    ReadTables,
    Stored,
    changed_rows_query,
    expected_unchanged,
    fingerprint,
    full_read_query,
    keys_query,
    split_full,
    split_read,
    stage_rows,
    stored_state,
)
from reconciler.sources.warehouse_state import WarehouseRead
from reconciler.state import SnapshotHashes, SnapshotInfo, StateReader

logger = logging.getLogger(__name__)

Narrow = Callable[[SqlFragment, str], SqlFragment]
DEFINITION_MOMENT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""The `now` the audience's fingerprint is taken at (any fixed moment does)."""


@dataclass(frozen=True)
class AudienceRead:
    report: AudienceReport
    notes: tuple[str, ...] = ()
    narrow: Narrow | None = None  # reads the rows of some keys only (`materialize_rows`)
    kept: WarehouseRead | None = field(default=None)


class Workspace(Protocol):
    """The planner's workspace, as far as a read needs it (see `planner.Workspace`)."""

    conn: duckdb.DuckDBPyConnection
    hash_format: str
    warehouse: dict[str, WarehouseRead]
    saved_reads: dict[str, dict[str, object]]

    def tables_of(self, activation: str) -> DiffTables: ...


@dataclass(frozen=True)
class Context:
    """What a warehouse-side read needs besides the source and the audience."""

    workspace: Workspace
    project: Project
    state: StateReader
    snapshot: SnapshotInfo | None
    now: dt.datetime

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        return self.workspace.conn

    @property
    def hash_format(self) -> str:
        return self.workspace.hash_format


def read_audience(source: Source, spec: AudienceSpec,
                  context: Context) -> tuple[AudienceReport, AudienceRead]:
    """Materialize the activation's audience into its desired table (see
    `materialize_audience`), in the warehouse when its Source's `planIn` says so; what a
    warehouse-side read leaves for the apply is kept on the workspace."""
    document = context.project.of_kind(Kind.SOURCE)[spec.model.source]
    read = _read(source, document.document.spec, spec, context, document.file.parent)
    context.workspace.warehouse.pop(spec.activation, None)
    if read.kept is not None:
        context.workspace.warehouse[spec.activation] = read.kept
    return read.report, read


def _read(source: Source, manifest: object, spec: AudienceSpec, context: Context,
          manifest_dir: Path) -> AudienceRead:
    conn, tables = context.conn, context.workspace.tables_of(spec.activation)
    if (not isinstance(manifest, PostgresSource | SnowflakeSource)
            or manifest.plan_in is not PlanIn.WAREHOUSE):
        return AudienceRead(materialize_audience(source, spec, conn, tables.desired,
                                                 now=context.now, held=tables.held))
    columns = discover_columns(source, spec.model)
    audience = build_audience_query(spec, source.dialect, now=context.now, columns=columns)
    # The definition, not the moment: a relative condition (`olderThan`) binds `now`, which
    # only moves who is in the audience; the FULL JOIN with the row-hash table sees members
    # enter and leave whatever the reason, and a row's hash and its snapshot hash depend on
    # its values alone. So the fingerprint is taken at a fixed moment.
    digest = fingerprint(spec, build_audience_query(spec, source.dialect, now=DEFINITION_MOMENT,
                                                    columns=columns))
    read_tables, raw = ReadTables.of(tables.desired), f"{tables.desired}__wh_raw"
    stored = stored_state(lambda q: _rows(source, q), manifest.state_schema, spec.activation,
                          source.dialect)
    reason = _mismatch(stored, context, digest, bool(spec.fields))
    unchanged: str | None = None
    if reason is None:
        assert stored is not None
        unchanged, reason = _read_changes(source, manifest, spec, context, audience, stored)
    if reason is not None:
        source.materialize(full_read_query(spec, audience, source.dialect), conn, raw)
        split_full(conn, raw, read_tables)

    def stage(_query: SqlFragment, staged: str, select: str) -> None:
        stage_rows(conn, raw, staged, select, unchanged)

    report = materialize_audience(source, spec, conn, tables.desired, now=context.now,
                                  held=tables.held, columns=columns, stage=stage)
    notes = (() if reason is None else
             (f"source {source.name!r} plans in the warehouse, but this plan read every row "
              f"of the audience: {reason}",))
    kept = WarehouseRead(source.name, manifest, spec.activation, digest, tables.desired,
                         read_tables, full=reason is not None, manifest_dir=manifest_dir)
    return AudienceRead(report, notes,
                        lambda query, keys: _narrow(conn, query, keys, source.dialect), kept)


def _mismatch(stored: Stored | None, context: Context, digest: str,
              has_fields: bool) -> str | None:
    """Why the warehouse's row hashes cannot be compared with (None: they can)."""
    snapshot = context.snapshot
    if snapshot is None:
        return "nothing was applied yet"
    if stored is None:
        return "its row-hash table was not written yet (the next apply writes it)"
    if stored.serial != snapshot.serial:
        return (f"its row hashes describe state serial {stored.serial}, the last apply is "
                f"serial {snapshot.serial} (an apply that did not record them)")
    if stored.fingerprint != digest:
        return "the audience's definition changed since its row hashes were recorded"
    if has_fields and snapshot.hash_format != context.hash_format:
        return "the snapshot's attribute hashes were made another way"
    return None


def _read_changes(source: Source, manifest: PostgresSource | SnowflakeSource, spec: AudienceSpec,
                  context: Context, audience: SqlFragment,
                  stored: Stored) -> tuple[str | None, str | None]:
    """Read the changed rows and take the others from the snapshot: the table of unchanged
    members, or why a full read is needed instead (the counts disagree)."""
    conn, tables = context.conn, context.workspace.tables_of(spec.activation)
    read_tables, raw = ReadTables.of(tables.desired), f"{tables.desired}__wh_raw"
    snapshot = f"{tables.desired}__wh_snapshot"
    context.state.copy_snapshot_into(spec.activation, conn, snapshot,
                                     hashes=SnapshotHashes.DIGEST)
    source.materialize(changed_rows_query(spec, audience, manifest.state_schema, source.dialect),
                       conn, raw)
    found = split_read(conn, raw, snapshot, read_tables, bool(spec.fields))
    conn.execute(f'DROP TABLE "{snapshot}"')
    expected = expected_unchanged(conn, stored, read_tables)
    if found != expected:
        conn.execute(f'DROP TABLE "{raw}"')
        return None, (f"its row-hash table counts {expected:,} unchanged members, the "
                      f"snapshot {found:,}")
    return read_tables.unchanged, None


def _rows(source: Source, query: SqlFragment) -> list[tuple[object, ...]]:
    table = source.stream(query).read_all()
    return [tuple(row.values()) for row in table.to_pylist()]


def _narrow(conn: duckdb.DuckDBPyConnection, query: SqlFragment, keys: str,
            dialect: Dialect) -> SqlFragment:
    values = [str(r[0]) for r in conn.execute(f'SELECT member_key FROM "{keys}"').fetchall()]
    return keys_query(query, values, dialect)


def record_warehouse_state(kept: WarehouseRead | None, conn: duckdb.DuckDBPyConnection,
                           applied: SnapshotInfo | None, snapshot: str) -> None:
    """Record a warehouse-side plan's row hashes for the snapshot its apply just wrote. A
    failure only costs the next plan a full read (it says so), never the apply."""
    if kept is None or applied is None:
        return
    try:
        kept.record(conn, snapshot, applied.serial)
    except (ReconcilerError, duckdb.Error) as exc:
        logger.warning("%s; the next plan of activation %r reads every row", exc,
                       kept.activation)


def saved_reads(reads: dict[str, WarehouseRead]) -> dict[str, dict[str, object]]:
    """What a saved plan keeps of its warehouse-side reads (their tables, listed by
    `warehouse_tables`, travel in it as Parquet)."""
    return {name: {"source": r.source, "fingerprint": r.fingerprint, "desired": r.desired,
                   "full": r.full} for name, r in reads.items()}


def warehouse_tables(reads: dict[str, WarehouseRead]) -> list[str]:
    """The workspace tables an apply of these reads needs to keep the row hashes."""
    return [name for r in reads.values()
            for name in (r.desired, r.tables.read, r.tables.gone, r.tables.unchanged)]


def adopt_saved_reads(workspace: Workspace, project: Project) -> None:
    """Bind a saved plan's warehouse-side reads to its project's Source manifests, so that
    applying the saved plan keeps the row hashes as applying a fresh plan does. A read whose
    Source no longer plans in the warehouse is dropped (the plan is then stale anyway)."""
    sources = project.of_kind(Kind.SOURCE)
    for activation, entry in workspace.saved_reads.items():
        document = sources.get(str(entry["source"]))
        spec = document.document.spec if document is not None else None
        if document is None or not isinstance(spec, PostgresSource | SnowflakeSource):
            continue
        desired = str(entry["desired"])
        workspace.warehouse[activation] = WarehouseRead(
            document.name, spec, activation, str(entry["fingerprint"]), desired,
            ReadTables.of(desired), full=bool(entry["full"]), manifest_dir=document.file.parent)
    workspace.saved_reads = {}
