"""What a destination offers for a contact index kept between plans (see planning/keyindex.py).

An observer that implements `IndexedContacts` lets the planner read only what it needs: the
destination's record count (one call), a full read of every key (paged in parallel, or a
documented export file), or a check of given keys (the cheapest documented per-key call). An
observer without it is read in full by `load_contact_index` on every plan, as before.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from reconciler.manifests.settings import EffectiveActivation


@dataclass(frozen=True)
class FullRead:
    """How a full read of the keys is done, before it is: `calls` API calls (pages) or one
    file (`file`: a documented export); `pages` the pages of `page_size` keys it reads."""

    pages: int
    calls: int
    file: str | None = None


@runtime_checkable
class IndexedContacts(Protocol):
    def index_scope(self, activation: EffectiveActivation) -> str:
        """What the keys are of, for the index id and people: e.g. `list CONTACTS`."""
        ...

    def count_contacts(self, activation: EffectiveActivation) -> int | None:
        """The destination's record count now (one documented call), None when unknown."""
        ...

    def full_read(self, activation: EffectiveActivation) -> FullRead | None:
        """What a full read would cost; None when the destination has no documented or
        allowed way to list every key (then the audience's keys are checked instead)."""
        ...

    def iter_all_keys(self, activation: EffectiveActivation) -> Iterator[list[str]]:
        """Pages of every key at the destination; a read ending short of the record count is
        an error (PermanentApiError), never a smaller index."""
        ...

    def file_read(self) -> tuple[str, dt.datetime | None] | None:
        """After a full read from a file: its name and when it was made (the index is as
        of then, not of the read); None after a read of pages."""
        ...

    def check_keys(self, activation: EffectiveActivation, keys: Sequence[str]) -> list[str]:
        """Of `keys`, those that exist, by the cheapest documented call, batched and in
        parallel within the destination's budget: one call per key."""
        ...

    @property
    def calls_sent(self) -> int:
        """The calls sent so far on this observer's key or licence (retries included)."""
        ...
