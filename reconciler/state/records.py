"""What the state store holds per activation, as frozen records and enums.

Owns the vocabulary shared by the state reader, the writer and their callers. Pure data: no
I/O, no SQL.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class RemoteId:
    kind: RemoteKind
    remote_id: str
    name: str = ""
    """Which one, for kinds an activation has several of (fields, attributes)."""


@dataclass(frozen=True)
class SnapshotInfo:
    """The last applied membership snapshot of an activation (its rows are streamed apart)."""

    members: int
    taken_at: dt.datetime
    serial: int
    """The activation's state serial the snapshot was written at."""


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    activation: str
    started_at: dt.datetime
    status: RunStatus
    finished_at: dt.datetime | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
