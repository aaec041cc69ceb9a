"""What the state store holds per activation, as frozen records and enums.

Owns the vocabulary shared by the state reader, the writer and their callers: remote ids,
snapshots, runs, apply locks and journal entries. Pure data: no I/O, no SQL.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.changes.journal import JournalStep

SNAPSHOT_KEY = "member_key"
SNAPSHOT_HASH = "attributes_hash"
"""Column names of a snapshot stream: the member key and the hash of its mapped values.
They match the audience table built by `sources/` so the planner can diff them directly."""


class RemoteKind(enum.StrEnum):
    """What a remote id identifies at a destination."""

    LIST = "list"  # Selligent audience list
    SEGMENT = "segment"  # Selligent static segment owned by the activation
    TARGET_LIST = "target_list"  # Actito external target list owned by the activation
    FIELD = "field"  # Selligent list field, by name
    ATTRIBUTE = "attribute"  # Actito profile attribute, by name


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"  # a guard stopped it before any write
    INTERRUPTED = "interrupted"  # killed midway (never finished); a later apply resumed it


@dataclass(frozen=True)
class RemoteId:
    kind: RemoteKind
    remote_id: str
    name: str = ""
    """Which one, for kinds an activation has several of (fields, attributes)."""


@dataclass(frozen=True)
class RemoteList:
    """Which remote list a snapshot describes: where it is (the destination, and the
    organization's list or the entity's table there) and its name and id at the destination
    (Selligent: the static segment's api name, which is also its id; Actito: the external
    target list's name, and its id when it was known)."""

    destination: str
    target: str
    name: str
    remote_id: str | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    """The last applied membership snapshot of an activation (its rows are streamed apart)."""

    members: int
    taken_at: dt.datetime
    serial: int
    """The activation's state serial the snapshot was written at."""
    hash_format: str | None = None
    """How its attribute hashes were made (`sources.conversion.hash_format`); None: unknown (a
    snapshot written before formats were recorded)."""
    remote: RemoteList | None = None
    """The remote list whose members the snapshot holds; None: unknown (written before lists
    were recorded, with no activation record to take it from)."""
    members_known: bool = True
    """False when the snapshot was imported from a list whose members cannot be read (an
    Actito list): it holds no member, and the next apply writes the whole list."""


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    activation: str
    started_at: dt.datetime
    status: RunStatus
    finished_at: dt.datetime | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class ActivationRecord:
    """What an activation was last applied to, kept so that it can be acted on once it is
    gone from the manifests (its remote list deleted or kept, as its deletionPolicy says)."""

    activation: str
    destination: str
    destination_type: str  # selligent | actito
    target: str
    """Where, for people: e.g. 'org SANDBOX, list CONTACTS'."""
    remote_name: str
    """The list the activation owns: a Selligent segment api name, an Actito list name."""
    deletion_policy: str  # keep | delete, as the manifests said at that apply
    updated_at: dt.datetime


@dataclass(frozen=True)
class LockInfo:
    """Who holds an activation's apply lock, as `locks()` and `LockedError` show it."""

    activation: str
    owner: str
    """Free text naming the holder, e.g. `apply by alice@ci-7 (pid 4242)`."""
    acquired_at: dt.datetime
    renewed_at: dt.datetime
    expires_at: dt.datetime
    """When the lease runs out: past it, the next `acquire_lock` takes the lock over."""

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Lock:
    """A held lock: what `renew_lock` and `release_lock` need (the token proves it is ours)."""

    activation: str
    owner: str
    token: str
    lease_seconds: float
    acquired_at: dt.datetime
    expires_at: dt.datetime


class JournalStatus(enum.StrEnum):
    PENDING = "pending"  # recorded before sending; still pending after a crash = unknown outcome
    CONFIRMED = "confirmed"  # the destination confirmed it
    FAILED = "failed"  # the destination refused it, or it was given up


@dataclass(frozen=True)
class JournalEntry:
    """One batch of one step of a run, recorded before it is sent and updated after."""

    entry_id: str
    run_id: str
    activation: str
    step: JournalStep
    batch_no: int
    attempt: int
    """1 for the first `journal_begin` of (run, step, batch_no), then 2, 3 … for retries."""
    rows: int
    fingerprint: str
    """What identifies the batch's rows (a keys hash or a key range), the caller's choice."""
    status: JournalStatus
    started_at: dt.datetime
    confirmed_rows: int | None = None
    error: str | None = None
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class ImportExecution:
    """One bulk import (an Actito ETL execution) started on a profile table, counted against
    the table's daily quota. `account` names the licence and entity (e.g.
    `acme@api.actito.com`); `day` is the UTC day it counts for."""

    account: str
    profile_table: str
    day: dt.date
    started_at: dt.datetime
    execution_id: str
    """The destination's id of the execution; empty when it was refused."""
    activations: tuple[str, ...]
    """The activations whose attribute updates it carried (one execution may serve several)."""
    rows: int
    refused: bool = False
    """The destination answered that the day's quota was used up (by anyone, us or not)."""


@dataclass(frozen=True)
class DeferredUpdates:
    """A run that synced its members but left its attribute updates for the next import slot
    (the table's daily import budget was used up)."""

    run_id: str
    activation: str
    account: str
    profile_table: str
    rows: int
    used: int
    """Imports counted on the table that day when the updates were deferred."""
    budget: int
    until: dt.datetime
    """The next slot: the start of the next UTC day."""
