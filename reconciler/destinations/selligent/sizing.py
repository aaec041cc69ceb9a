"""How many rows one Selligent data call carries: sized by time, not only by rows.

Marigold documents a 15-second connection time-out on inbound requests (api/selligent.md §8;
the rest of that paragraph is not public). How many rows fit in 15 s depends on the tenant,
the list and its load, so the size is measured, not guessed: calls start at a safe
`initial_rows`, and each answered call moves the size so that the next takes about
`target_share` of the limit (growing at most `max_growth` times per call, never past the
configured rows per call). A call that ran into the limit (408, or no answer after most of
it) is not retried whole: its rows are split in two and the size halves (`timed_out`).
Shared by the threads of one client.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from reconciler.destinations.errors import TransientApiError

INBOUND_LIMIT_SECONDS = 15.0  # [C, partial] §8: "limited by a 15 seconds connection time-out"


@dataclass(frozen=True)
class SizingSettings:
    initial_rows: int = 2_000
    time_limit: float = INBOUND_LIMIT_SECONDS
    target_share: float = 0.4  # aim at 6 s of a 15-s limit: room for a slower moment
    max_growth: float = 4.0
    slow_share: float = 0.8  # no answer after this share of the limit: the call was too big


class CallSizer:
    def __init__(self, max_rows: int, settings: SizingSettings | None = None) -> None:
        self.settings = settings or SizingSettings()
        self.max_rows = max(1, max_rows)
        self._rows = min(self.max_rows, max(1, self.settings.initial_rows))
        self._lock = threading.Lock()

    @property
    def rows(self) -> int:
        """Rows for the next call."""
        with self._lock:
            return self._rows

    def answered(self, rows: int, seconds: float) -> None:
        """A call of `rows` rows was answered in `seconds`."""
        if rows <= 0:
            return
        target = self.settings.target_share * self.settings.time_limit
        scale = min(self.settings.max_growth, target / max(seconds, 1e-3))
        with self._lock:
            if scale >= 1 and rows < self._rows:
                return  # a short last chunk says little about bigger ones
            self._rows = max(1, min(self.max_rows, int(rows * scale)))

    def too_slow(self, error: TransientApiError) -> bool:
        """True when `error` says the call ran into the inbound time limit."""
        if error.status == 408:
            return True
        ran = getattr(error, "elapsed", None)
        return error.status is None and ran is not None and \
            ran >= self.settings.slow_share * self.settings.time_limit

    def timed_out(self, rows: int) -> int:
        """A call of `rows` rows ran into the limit: the next ones carry half; returns the
        first half's size."""
        half = max(1, rows // 2)
        with self._lock:
            self._rows = max(1, min(self._rows, half))
        return half
