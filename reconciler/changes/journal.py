"""The apply steps and the per-batch journal protocol that writers use.

A writer records every batch it sends through a `Journal` (the executor's implementation
writes it to the state store: pending before sending, confirmed or failed after), so a crash
leaves a record of which batches had an unknown outcome. Writers only see this protocol.
"""
from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol


class JournalStep(enum.StrEnum):
    """The steps of an activation's apply, in the order they run."""

    CREATE_RESOURCES = "create_resources"
    ADD_MEMBERS = "add_members"
    REMOVE_MEMBERS = "remove_members"
    UPDATE_PROFILES = "update_profiles"
    DELETE_RESOURCES = "delete_resources"  # an activation removed from the manifests


class BatchHandle:
    """One batch being sent; the writer says how many of its rows the destination confirmed."""

    def __init__(self, rows: int) -> None:
        self.confirmed = rows

    def confirm(self, rows: int) -> None:
        """What the destination confirmed of this batch (default: every row sent)."""
        self.confirmed = rows


class Journal(Protocol):
    def batch(self, step: JournalStep, rows: int,
              fingerprint: str = "") -> AbstractContextManager[BatchHandle]:
        """Record a batch before it is sent and its outcome after (an exception: failed)."""
        ...


def keys_fingerprint(keys: Iterable[str]) -> str:
    """A short digest of a batch's keys (no key is stored in the journal)."""
    digest = hashlib.sha256()
    for key in keys:
        digest.update(key.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]
