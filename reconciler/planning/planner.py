"""Building a Plan: desired audiences (sources) vs observed destinations vs the last apply.

Owns the order of one activation's planning and the translation of its results into plan
objects. It reads only: sources through `sources/`, destinations through read-only
`DestinationObserver`s, the state through a `StateReader`. Change sets stay as tables of the
`Workspace` DuckDB connection, named by activation, for apply and saved plans.
"""
from __future__ import annotations

import datetime as dt
import enum
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reconciler.changes.tables import DiffTables
from reconciler.destinations.base import DestinationObserver, Structure, load_key_pages
from reconciler.destinations.capabilities import import_target
from reconciler.errors import ReconcilerError
from reconciler.manifests.models import Kind, ModelDocument, SegmentDocument
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.attributes import stage_remote_hashes
from reconciler.planning.diff import DiffResult, compute_diff, left_behind
from reconciler.planning.expiry import file_refresh
from reconciler.planning.findings import (
    data_issues,
    error_message,
    guard_stops,
    warnings_of,
)
from reconciler.planning.keyindex import ContactIndexes, index_context
from reconciler.planning.plan import (
    ActivationPlan,
    AttributeChange,
    Drift,
    MembershipChange,
    Plan,
    RemoteRead,
)
from reconciler.planning.removal import plan_removal, removed_records
from reconciler.planning.render import describe_index, describe_read
from reconciler.planning.replacement import (
    Owned,
    guard_diff,
    list_label,
    owned_of,
    owners_of_lists,
    plan_replacement,
    replaced_list,
    unowned_error,
    with_replacement,
)
from reconciler.planning.steps import SILENT, StepReporter, Steps
from reconciler.planning.warehouse import Context, read_audience, record_warehouse_state
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    Source,
    hash_format,
    materialize_rows,
    open_source,
)
from reconciler.sources.warehouse_state import WarehouseRead
from reconciler.state import RemoteList, SnapshotHashes, SnapshotInfo, StateReader

WORKSPACE_MEMORY_LIMIT = "750MB"
"""What the workspace's DuckDB may hold in memory; beyond it, its tables spill to disk. Bounded
so that a 10-million-member audience plans in under 1.5 GB of RSS on a small machine; raise it
(e.g. `RECONCILER_WORKSPACE_MEMORY=4GB`) where memory is plentiful, to spill less."""
WORKSPACE_MEMORY_ENV = "RECONCILER_WORKSPACE_MEMORY"


def _memory_limit() -> str:
    return os.environ.get(WORKSPACE_MEMORY_ENV) or WORKSPACE_MEMORY_LIMIT


def _spill_directory() -> Path:
    """A private directory (0700: spilled audiences hold member keys) for DuckDB to spill
    into; removed with the workspace."""
    return Path(tempfile.mkdtemp(prefix="reconciler-workspace-"))


@dataclass
class Workspace:
    """The DuckDB connection holding every activation's audience and change-set tables."""

    spill_directory: Path = field(default_factory=_spill_directory)
    memory_limit: str = field(default_factory=_memory_limit)
    conn: duckdb.DuckDBPyConnection = field(init=False)
    tables: dict[str, DiffTables] = field(default_factory=dict)
    hash_format: str = field(init=False)
    """How the audiences' attribute hashes here were made (a saved plan's, once adopted)."""
    warehouse: dict[str, WarehouseRead] = field(default_factory=dict)
    """The warehouse-side reads of this workspace's plans (`planIn: warehouse`), by
    activation: their apply records the row hashes in the warehouse (a saved plan's: see
    `warehouse.adopt_saved_reads`)."""
    saved_reads: dict[str, dict[str, object]] = field(default_factory=dict)
    """A saved plan's warehouse-side reads, until bound to its project's Sources."""

    def __post_init__(self) -> None:
        self.conn = duckdb.connect(":memory:", config={
            "memory_limit": self.memory_limit, "temp_directory": str(self.spill_directory)})
        self.conn.execute("SET enable_progress_bar = false")  # plan owns the terminal
        self.hash_format = hash_format(self.conn)

    def adopt(self, activation: str, prefix: str) -> None:
        """Name an activation's tables as a saved plan did (see planfile.py)."""
        self.tables[activation] = DiffTables(prefix)

    def tables_of(self, activation: str) -> DiffTables:
        if activation not in self.tables:
            self.tables[activation] = DiffTables(f"a{len(self.tables)}")
        return self.tables[activation]

    def record_warehouse(self, activation: str, applied: SnapshotInfo | None,
                         snapshot: str) -> None:
        """After an apply wrote `snapshot` (`applied`), keep its warehouse-side row hashes."""
        record_warehouse_state(self.warehouse.pop(activation, None), self.conn, applied, snapshot)

    def close(self) -> None:
        self.conn.close()
        shutil.rmtree(self.spill_directory, ignore_errors=True)


class Refresh(enum.Enum):
    """What a plan reads at the destination besides its lists and contacts."""

    NONE = "none"  # nothing: compare with the last apply's snapshot
    MEMBERS = "members"  # the lists' members (membership drift): `--refresh-members`
    ATTRIBUTES = "attributes"  # the members and their mapped values (and attribute drift)

    @classmethod
    def of(cls, refresh: bool, members_only: bool = False) -> Refresh:
        """The CLI's `--refresh` and `--refresh-members` (the narrower one wins)."""
        if members_only:
            return cls.MEMBERS
        return cls.ATTRIBUTES if refresh else cls.NONE


@dataclass(frozen=True)
class PlanOptions:
    now: dt.datetime
    activations: Sequence[str] = ()  # empty: all
    refresh: Refresh = Refresh.NONE
    show_members: bool = False  # raw sample keys instead of masked ones (local use only)
    refresh_index: bool = False  # read the contact indexes in full (see keyindex.py)


class Planner:
    """Plans the activations of one project; sources are opened once and shared."""

    def __init__(self, project: Project, settings: Mapping[str, EffectiveActivation],
                 state: StateReader, observers: Mapping[str, DestinationObserver],
                 workspace: Workspace, steps: StepReporter = SILENT) -> None:
        """`settings`: the project's effective activations, worked out once by the caller;
        `steps` hears each planning step start and end (progress for people)."""
        self.steps = steps
        self.project = project
        self.settings = settings
        self.state = state
        self.observers = observers
        self.workspace = workspace
        self._sources: dict[str, Source] = {}
        self.structures: dict[str, Structure] = {}  # what each destination lacked, by activation
        self.indexes: ContactIndexes | None = None  # this run's contact indexes, once planned

    def build_plan(self, options: PlanOptions) -> Plan:
        settings = self.settings
        removed = removed_records(self.state.activation_records(), settings)
        destinations = {name: d.spec.type for name, d in self.project.destinations().items()}
        wanted = list(options.activations) or sorted({*settings, *removed})
        self.indexes = ContactIndexes(index_context(
            self.state, options.now, self.project, settings,
            options.refresh_index or options.refresh is Refresh.ATTRIBUTES), self.workspace.conn)
        plans = tuple(self._plan_or_error(settings[name], options) if name in settings
                      else plan_removal(removed[name], destinations, settings) for name in wanted)
        return Plan(created_at=options.now, activations=plans)

    def close(self) -> None:
        for source in self._sources.values():
            source.close()

    def _plan_or_error(self, settings: EffectiveActivation, options: PlanOptions) -> ActivationPlan:
        observer = self.observers[settings.destination]
        destination = self.project.destinations()[settings.destination]
        head = ActivationPlan(activation=settings.name, destination=settings.destination,
                              destination_type=settings.destination_type,
                              target=observer.target, remote_name=settings.audience_name,
                              settings=settings, import_target=import_target(destination.spec))
        try:
            with Steps(self.steps, settings.name).step(
                    f"reading {settings.destination}'s lists and fields"):
                structure = observer.plan_structure(settings)
            self.structures[settings.name] = structure
            head = head.model_copy(update={"remote_name": structure.remote_name,
                                           "remote_id": structure.remote_id})
            if structure.errors:
                return head.model_copy(update={"error": "; ".join(structure.errors)})
            owned = owned_of(self.state.snapshot_info(settings.name),
                             self.state.activation_records(),
                             tuple((r.kind, r.remote_id)
                                   for r in self.state.remote_ids(settings.name)),
                             settings.name)
            refusal = unowned_error(settings, structure, observer.target, owned)
            if refusal is not None:  # someone else's list: never written to
                return head.model_copy(update={"error": refusal})
            return self._plan(settings, observer, structure, options, head, owned)
        except ReconcilerError as exc:  # this activation cannot be planned; the others can
            return head.model_copy(update={"error": error_message(self.project, exc)})

    def _plan(self, settings: EffectiveActivation, observer: DestinationObserver,
              structure: Structure, options: PlanOptions, head: ActivationPlan,
              owned: Owned) -> ActivationPlan:
        conn, tables = self.workspace.conn, self.workspace.tables_of(settings.name)
        source, spec = self._audience(settings, structure.field_lengths)
        steps = Steps(self.steps, settings.name)
        with steps.step(f"reading the audience from source {source.name}") as found:
            report, aud = read_audience(source, spec, Context(
                self.workspace, self.project, self.state, owned.snapshot, options.now))
            found.text = f"{report.valid_rows:,} rows"
        snapshot = owned.snapshot
        hashes = self._read_snapshot(settings, snapshot, steps)
        # A list the manifests name instead of the last apply's is compared with its own members.
        old = replaced_list(settings, structure, observer.target, snapshot, owned.record)
        with steps.step(f"reading {settings.destination}'s contacts") as found:
            assert self.indexes is not None
            index = self.indexes.load(settings, observer, tables.contacts, tables.desired)
            found.text = describe_index(index, options.now)
        has_actual, read, remote = self._read_list(settings, observer, structure, options, spec,
                                                   (snapshot, old, hashes), steps)
        def fill_updates(keys: str, updates: str) -> None:  # the sent rows' values, read again
            materialize_rows(source, spec, conn, updates, keys, now=options.now, narrow=aud.narrow)

        with steps.step("comparing"):
            diff = compute_diff(conn, tables, has_actual=has_actual,
                                has_snapshot=snapshot is not None and old is None,
                                has_fields=bool(settings.fields), mask=not options.show_members,
                                fill_updates=fill_updates,
                                held=tables.held if report.held_keys else None,
                                remote=remote, complete_contacts=index.complete)
        refresh = file_refresh(settings, structure, snapshot, old, options.now)
        resources, guarded = structure.resources + refresh, diff
        notes = _imported_notes(settings, structure, snapshot, diff) + aud.notes
        if old is not None and snapshot is not None:
            change, replaced = plan_replacement(
                settings, structure, observer.target, old, snapshot.members,
                owners_of_lists(self.settings, owned.others, settings))
            resources, notes = with_replacement(resources, change), notes + replaced
            guarded = guard_diff(diff, change, left_behind(conn, tables))
        return head.model_copy(update=dict(
            resources=resources,
            members=MembershipChange(desired=diff.desired, matched=diff.matched, adds=diff.adds,
                                     removes=diff.removes, held=diff.held,
                                     samples=diff.samples),
            attributes=AttributeChange(updates=diff.updates,
                                       fields=tuple(f.destination for f in settings.fields))
            if settings.fields else None,
            drift=_drift(diff),
            remote_read=read, contact_index=index,
            unobserved=_unobservable(settings, options, has_actual),
            data_issues=data_issues(report),
            warnings=structure.warnings + notes + warnings_of(settings, report, diff, hashes),
            stops=guard_stops(settings, guarded),
            inferred_operations=structure.inferred,
            batching=structure.batching.for_changes(diff.adds, diff.removes, diff.updates)
            if structure.batching is not None else None,
        ))

    def _read_snapshot(self, settings: EffectiveActivation, snapshot: SnapshotInfo | None,
                       steps: Steps) -> SnapshotHashes:
        """The last applied snapshot into the workspace, its hashes in the form it compares."""
        tables = self.workspace.tables_of(settings.name)
        with steps.step("reading the last applied snapshot") as found:
            hashes = _snapshot_hashes(settings, snapshot, self.workspace.hash_format)
            # An encrypted state matches members to the audience's keys by keyed hash.
            self.state.copy_snapshot_into(settings.name, self.workspace.conn, tables.snapshot,
                                          hashes=hashes, keys_from=tables.desired)
            found.text = f"{snapshot.members:,} members" if snapshot else "none yet"
        return hashes

    def _read_list(self, settings: EffectiveActivation, observer: DestinationObserver,
                   structure: Structure, options: PlanOptions, spec: AudienceSpec,
                   last: tuple[SnapshotInfo | None, RemoteList | None, SnapshotHashes],
                   steps: Steps) -> tuple[bool, RemoteRead | None, str | None]:
        """Read the list's members when asked to, or when there is no snapshot to compare
        with (`last`: the snapshot, the list it replaces, how its hashes compare), with
        their values on `Refresh.ATTRIBUTES`; whether `tables.actual` holds them, what the
        refresh read, the table of the values' hashes."""
        conn, tables = self.workspace.conn, self.workspace.tables_of(settings.name)
        snapshot, old, hashes = last
        has_actual, read, remote = False, None, None
        if ((options.refresh is not Refresh.NONE or snapshot is None or old is not None)
                and structure.list_exists):
            with steps.step(f"reading {settings.destination}'s list members") as found:
                # Values only where the snapshot's hashes would otherwise be trusted.
                values = (options.refresh is Refresh.ATTRIBUTES and bool(settings.fields)
                          and snapshot is not None and old is None
                          and hashes is SnapshotHashes.DIGEST)
                has_actual, read, remote = _read_members(observer, settings, spec, conn,
                                                         tables, values)
                if options.refresh is Refresh.NONE:  # read for want of a snapshot: no refresh
                    read = None
                found.text = describe_read(read) or ""
        if old is not None and not has_actual:  # new, or unreadable: the whole list is sent
            load_key_pages(conn, tables.actual, [])
            has_actual = True
        return has_actual, read, remote

    def _audience(self, settings: EffectiveActivation,
                  lengths: Mapping[str, int] | None = None) -> tuple[Source, AudienceSpec]:
        """The activation's source and what its audience is made of; `lengths`: the
        destination's text fields' lengths (longer values are rejected)."""
        lengths = lengths or {}
        segments = self.project.segments()
        models = self.project.models()
        segment: SegmentDocument | None = segments.get(settings.segment or "")
        model: ModelDocument = models[segment.spec.model if segment else settings.model or ""]
        source = self._source(model.spec.source)
        spec = AudienceSpec(
            activation=settings.name,
            model=model.spec,
            match_key=settings.match_key.source,
            fields=tuple(AudienceField(f.source, f.destination, f.type,
                                       lengths.get(f.destination)) for f in settings.fields),
            segment=settings.segment,
            where=segment.spec.where if segment else None,
            duplicate_keys=settings.duplicate_keys,
        )
        return source, spec

    def _source(self, name: str) -> Source:
        if name not in self._sources:
            manifest = self.project.of_kind(Kind.SOURCE)[name]
            self._sources[name] = open_source(name, manifest.document.spec,
                                              manifest.file.parent)
        return self._sources[name]


def _snapshot_hashes(settings: EffectiveActivation, snapshot: SnapshotInfo | None,
                     current: str) -> SnapshotHashes:
    """Compare attribute hashes with the snapshot's only when they were made the same way."""
    if snapshot is None or not settings.fields or snapshot.hash_format == current:
        return SnapshotHashes.DIGEST
    return SnapshotHashes.UNKNOWN


def _imported_notes(settings: EffectiveActivation, structure: Structure,
                    snapshot: SnapshotInfo | None, diff: DiffResult) -> tuple[str, ...]:
    """An imported list whose members could not be read: say that apply writes it whole."""
    if snapshot is None or snapshot.members_known:
        return ()
    return (f"{list_label(settings.destination_type)} {structure.remote_name!r} was imported "
            "without its members (the destination does not list them): apply writes it whole, "
            f"with the {diff.matched:,} members shown, replacing whatever it holds",)


def _unobservable(settings: EffectiveActivation, options: PlanOptions,
                  has_actual: bool) -> tuple[str, ...]:
    """With --refresh, say when the mapped attributes' values cannot be read (Actito)."""
    if options.refresh is not Refresh.ATTRIBUTES or not settings.fields or has_actual:
        return ()
    return (f"attribute drift at {settings.destination} is not observable (no documented "
            "call reads the list's members with their values): values changed there are not "
            "seen by --refresh",)


def _drift(diff: DiffResult) -> Drift | None:
    added, removed = diff.added_outside or 0, diff.removed_outside or 0
    changed = diff.changed_outside or 0
    if not added and not removed and not changed:
        return None
    return Drift(added_outside=added, removed_outside=removed, changed_outside=changed)


def _read_members(observer: DestinationObserver, settings: EffectiveActivation,
                  spec: AudienceSpec, conn: duckdb.DuckDBPyConnection, tables: DiffTables,
                  values: bool) -> tuple[bool, RemoteRead | None, str | None]:
    """Read the list's members into `tables.actual`, with their mapped values when `values`
    and the destination can read them (their hashes then in the table named third)."""
    if values:
        raw, remote = f"{tables.actual}_values", f"{tables.actual}_remote"
        read = observer.load_member_values(settings, conn, tables.actual, raw)
        if read is not None:
            stage_remote_hashes(conn, raw, remote, spec.fields)
            conn.execute(f'DROP TABLE "{raw}"')
            fields = tuple(f.destination for f in spec.fields)
            return True, RemoteRead(members=read.members, fields=fields,
                                    calls=read.calls), remote
    if not observer.load_members(settings, conn, tables.actual):
        return False, None, None
    members = conn.execute(f'SELECT count(*) FROM "{tables.actual}"').fetchall()[0][0]
    return True, RemoteRead(members=int(members)), None
