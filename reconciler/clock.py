"""The program's one clock: what "now" is for everything that reasons about dates.

Relative segment conditions (`olderThan: 180d`), schedules, Actito's daily import budget and
key-file validity, run records and notifications all ask a `Clock` handed down from the
command, never the system directly. `plan`, `apply`, `run` and `status` take a hidden
`--now` (ISO 8601) that pins it, so a test or an incident replay sees the day it names.

Durations (timeouts, pacing, lock leases) are measured with `time.monotonic()` where they
happen: they are about elapsed time, not about which day it is.

This module sits at the bottom of the layers (beside `reconciler.errors`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from reconciler.errors import ReconcilerError


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at `moment` (`--now`): every reading is the same."""

    moment: dt.datetime

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            object.__setattr__(self, "moment", self.moment.replace(tzinfo=dt.UTC))

    def now(self) -> dt.datetime:
        return self.moment


SYSTEM_CLOCK = SystemClock()


class InvalidNowError(ReconcilerError):
    """`--now` is not an ISO 8601 date-time."""


def clock_from(text: str | None) -> Clock:
    """The clock a command runs on: stopped at `text` (ISO 8601; a naive time is UTC), or the
    system clock when no `--now` was given."""
    if text is None:
        return SYSTEM_CLOCK
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidNowError(f"--now {text!r} is not an ISO 8601 date-time "
                              "(e.g. 2026-11-01T09:00:00Z)") from exc
    return FixedClock(moment)
