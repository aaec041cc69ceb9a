"""What the planner and executor ask of a destination, whatever its vendor.

`DestinationObserver` (the planner's) only reads; `DestinationWriter` (the executor's) writes.

An observer only reads. For one activation it says which remote resources must be created
(`plan_structure`), and it streams key sets into the planner's DuckDB connection: the contact
index (which keys exist at the destination) and, when asked, the actual members of the
activation's list. Writing belongs to the adapters, driven by the executor.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from reconciler.changes.batching import Batching
from reconciler.changes.imports import ImportTarget
from reconciler.changes.journal import Journal
from reconciler.changes.resources import ResourceChange, ResourceType
from reconciler.changes.tables import DiffTables
from reconciler.manifests.settings import EffectiveActivation


@dataclass(frozen=True)
class Structure:
    """What the destination lacks for an activation, and what stops it from syncing."""

    remote_name: str
    resources: tuple[ResourceChange, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    list_exists: bool = False
    member_count: int | None = None  # what the destination says, when it says it
    remote_id: str | None = None  # the existing list's id at the destination, when it has one
    # Text fields' lengths (destination name → characters), existing or to be created: values
    # longer are rejected at plan time. Empty when the destination has no such limit.
    field_lengths: dict[str, int] = field(default_factory=dict)
    batching: Batching | None = None  # how apply sizes its data calls (None: not by rows)
    # Operations the activation may use whose route or body is undocumented, described.
    inferred: tuple[str, ...] = ()
    # The manifests name this very list (e.g. an Actito list by its id, or set up in the
    # portal): it is theirs by declaration, with no `reconciler import`.
    declared: bool = False


@dataclass(frozen=True)
class WriteResult:
    """What the destination confirmed for one step, in rows. `unsettled`: it rejected rows
    without saying which, so none of the rows sent may be recorded as applied (the executor's
    snapshot keeps no hash for them and the next plan sends them again). `unconfirmed`: the
    rows were handed over (e.g. a key file dropped) but the destination has not said it took
    them; `applied` is then what was sent."""

    sent: int
    applied: int
    not_found: int = 0
    rejected: int = 0
    unsettled: bool = False
    unconfirmed: bool = False

    def plus(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.sent + other.sent, self.applied + other.applied,
                           self.not_found + other.not_found, self.rejected + other.rejected,
                           self.unsettled or other.unsettled,
                           self.unconfirmed or other.unconfirmed)


class DestinationWriter(Protocol):
    """What the executor asks of a destination, in plan order; every method is idempotent
    (creating what exists, adding a member twice or removing an absent one changes nothing).
    Writers journal each batch they send through the `Journal` they are given."""

    def create_resources(self, activation: EffectiveActivation,
                         resources: tuple[ResourceChange, ...], journal: Journal) -> None: ...

    def apply_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult: ...

    def apply_updates(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                      tables: DiffTables, journal: Journal) -> WriteResult: ...

    def delete_resources(self, resources: tuple[ResourceChange, ...],
                         journal: Journal) -> None:
        """Delete the lists/segments an activation removed from the manifests owned (members
        stay contacts); deleting what is already gone changes nothing."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class UpdateShare:
    """One activation's attribute updates (its `tables.updates`, `rows` of them) in an import
    several activations share."""

    activation: EffectiveActivation
    tables: DiffTables
    rows: int


@runtime_checkable
class BulkImportWriter(Protocol):
    """A writer whose attribute updates are bulk imports counted against a daily quota per
    table (Actito). The executor then sends them itself, one import for the activations of a
    run that fit one file (same table, key and columns: see executing/importbudget.py), and
    keeps the budget."""

    def prepare_import(self, shares: Sequence[UpdateShare], conn: duckdb.DuckDBPyConnection,
                       folder: Path) -> list[Path]:
        """Write the import's files into `folder`, each file one import (usually one) of the
        shares' rows, which have the same key and columns."""
        ...

    def run_import_file(self, part: Path, shares: Sequence[UpdateShare],
                        on_started: Callable[[str], None]) -> WriteResult:
        """Run one import file of `shares` and wait for it; `on_started(id)` once the
        destination accepted it. QuotaExceededError when the destination refuses it for the
        quota."""
        ...


class DestinationObserver(Protocol):
    @property
    def target(self) -> str:
        """Where activations land, for people: e.g. 'org SANDBOX, list CONTACTS'."""
        ...

    def plan_structure(self, activation: EffectiveActivation) -> Structure: ...

    def load_contact_index(
        self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection, table: str,
        desired_table: str,
    ) -> None:
        """Create temp table or view `table(member_key)` holding every desired key that exists
        remotely. It may hold more (keys that are not desired) and a key more than once: the
        diff keeps the desired keys found in it, so a destination that can only list all of
        its contacts need not filter them first."""
        ...

    def load_members(
        self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection, table: str
    ) -> bool:
        """Create temp table `table(member_key)` of the list's actual members; False when the
        destination cannot list them (then the table is not created)."""
        ...

    def load_member_values(
        self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection, table: str,
        values_table: str,
    ) -> ValuesRead | None:
        """As `load_members`, and temp table `values_table(member_key, one VARCHAR column per
        mapped field, named by its destination name)` of the members' current values at the
        destination (NULL: no value), read together. None when the destination cannot read
        them (then neither table is created and the planner falls back to `load_members`)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ValuesRead:
    """What reading the members' mapped values cost: the calls sent (retries included)."""

    members: int
    calls: int


KEY_BATCH = 200_000


def load_key_pages(
    conn: duckdb.DuckDBPyConnection, table: str, pages: Iterable[Sequence[str]]
) -> None:
    """Create temp table `table(member_key VARCHAR)` from an iterable of key lists, pages
    gathered into inserts of about KEY_BATCH keys (one insert per small page is what a
    10-million-key read would spend its time on)."""
    conn.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" (member_key VARCHAR)')
    gathered: list[str] = []

    def insert() -> None:
        batch = pa.table({"member_key": pa.array(gathered, pa.string())})
        conn.register("__key_page", batch)
        conn.execute(f'INSERT INTO "{table}" SELECT member_key FROM __key_page')
        conn.unregister("__key_page")
        gathered.clear()

    for page in pages:
        gathered.extend(str(k) for k in page)
        if len(gathered) >= KEY_BATCH:
            insert()
    if gathered:
        insert()


def load_row_pages(conn: duckdb.DuckDBPyConnection, keys: str, values: str,
                   columns: Sequence[str], pages: Iterable[Sequence[Sequence[Any]]]) -> int:
    """Create temp tables `keys(member_key VARCHAR)` and `values(member_key, *columns)` (all
    VARCHAR) from pages of rows `[key, *values]`; a value becomes its JSON text (booleans
    `true`/`false`), NULL stays NULL. The rows loaded."""
    conn.execute(f'CREATE OR REPLACE TEMP TABLE "{keys}" (member_key VARCHAR)')
    named = ", ".join(f'"{c}" VARCHAR' for c in columns)
    conn.execute(f'CREATE OR REPLACE TEMP TABLE "{values}" (member_key VARCHAR, {named})')
    loaded = 0
    for page in pages:
        if not page:
            continue
        arrays = {"member_key": pa.array([str(row[0]) for row in page], pa.string())}
        for i in range(1, len(columns) + 1):
            arrays[f"v{i}"] = pa.array([_text(row[i]) for row in page], pa.string())
        conn.register("__row_page", pa.table(arrays))
        conn.execute(f'INSERT INTO "{keys}" SELECT member_key FROM __row_page')
        conn.execute(f'INSERT INTO "{values}" SELECT * FROM __row_page')
        conn.unregister("__row_page")
        loaded += len(page)
    return loaded


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class DestinationCapabilities:
    """What a destination type declares about itself, so the layers above ask instead of
    branching on its name (see capabilities.py). Every callable takes effective settings."""

    list_type: ResourceType  # the remote resource an audience becomes
    describe_list: Callable[[EffectiveActivation], str]  # "static segment VIP_customers"
    # An import target when attribute updates are bulk imports under a daily quota.
    import_target: Callable[[Any], ImportTarget | None] = lambda _spec: None
    # When the list must be written again at the latest after a successful run (lists that
    # expire), and when the list's current file stops targeting after it was dropped.
    refresh_deadline: Callable[[EffectiveActivation, dt.datetime], dt.datetime | None] = \
        lambda _a, _t: None
    file_expiry: Callable[[EffectiveActivation, dt.datetime], dt.datetime | None] = \
        lambda _a, _t: None
    # The member step sends the whole list (every member), not only who enters and leaves.
    sends_whole_list: bool = False
    # List names compare ignoring case (two spellings name one list).
    case_insensitive_names: bool = False
