"""The per-batch journal of one activation's apply, as writers use it.

Every batch is recorded in the state store before it is sent (pending) and after the
destination answered (confirmed with the rows it confirmed, or failed). Before each batch the
lock's keeper is checked, so an apply whose lock was lost stops between batches. After a crash
the pending entries say which batches had an unknown outcome; the next apply re-plans against
the destination's actual membership, and every write is idempotent (a member added twice is
one member, removing an absent one changes nothing), so it converges.
"""
from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Protocol

from reconciler.changes.journal import BatchHandle, JournalStep
from reconciler.state import StateWriter

RESOURCE_STEPS = frozenset({JournalStep.CREATE_RESOURCES, JournalStep.DELETE_RESOURCES})


class _Keeper(Protocol):
    def check(self) -> None: ...


class BatchJournal:
    """The state store's `Journal` (changes/journal.py) for one activation's run."""

    def __init__(self, store: StateWriter, run_id: str, activation: str,
                 keeper: _Keeper | None = None,
                 on_confirm: Callable[[JournalStep, int], None] | None = None) -> None:
        self.store, self.run_id, self.activation, self.keeper = store, run_id, activation, keeper
        self.on_confirm = on_confirm  # progress reporting
        self._numbers: Counter[JournalStep] = Counter()
        self._batches: Counter[JournalStep] = Counter()  # confirmed, per step
        self._rows: Counter[JournalStep] = Counter()  # confirmed rows, per step
        self._step: JournalStep | None = None  # the last step begun
        self._lock = threading.Lock()  # writers may send batches from several threads

    @contextlib.contextmanager
    def batch(self, step: JournalStep, rows: int, fingerprint: str = "") -> Iterator[BatchHandle]:
        if self.keeper is not None:
            self.keeper.check()
        with self._lock:
            self._numbers[step] += 1
            number, self._step = self._numbers[step], step
        entry = self.store.journal_begin(self.run_id, self.activation, step, number, rows,
                                         fingerprint)
        handle = BatchHandle(rows)
        try:
            yield handle
        except KeyboardInterrupt:
            self.store.journal_fail(entry, "interrupted (Ctrl-C) before the destination "
                                    "answered: outcome unknown, checked by the next apply")
            raise
        except BaseException as exc:
            self.store.journal_fail(entry, f"{type(exc).__name__}: {exc}"[:2000])
            raise
        self.store.journal_confirm(entry, handle.confirmed)
        if step not in RESOURCE_STEPS:  # rows, for people; a resource batch counts resources
            with self._lock:
                self._batches[step] += 1
                self._rows[step] += handle.confirmed
        if self.on_confirm is not None and step is not JournalStep.CREATE_RESOURCES:
            self.on_confirm(step, handle.confirmed)

    def describe_progress(self) -> str:
        """Where the run got to, for people: `during add members, after 3 batches confirmed
        (120 rows of add members)` (lists and fields created are not counted)."""
        with self._lock:
            step, confirmed = self._step, [
                f"{self._rows[s]:,} rows of {s.value.replace('_', ' ')}"
                for s in self._batches if self._batches[s]]
            batches = sum(self._batches.values())
        where = f"during {step.value.replace('_', ' ')}" if step else "before its first batch"
        if not batches:
            return f"{where}, before any batch was confirmed"
        return (f"{where}, after {batches} batch{'es' if batches > 1 else ''} confirmed "
                f"({', '.join(confirmed)})")
