"""What an ETL execution's answer says: whether it has ended, and how. Pure, no I/O.

- [C] evidence §7: an execution ends `SUCCESS` or `WITH_ERROR` (`etl.executionStatus` in the
  FINISHED webhook's payload).
- [I] the old spellings `FINISHED` / `ERROR` (our notes' guess, api/actito.md §2.7, and the
  first sandbox) are read as the same two ends, so an answer in either spelling ends the wait.
- [?] whether the GET body names the field `executionStatus` (the webhook's) or `status`:
  either is read. Any other value, or none, means "still running" (the non-final values are
  undocumented).
- [I] `counters` (`totalLines`, `updated`, `unchanged`, `rejected`), `rejectedLines` and
  `errors`: our guesses at the body, read by `models.UpdateReport`.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class EtlEnd(StrEnum):
    SUCCESS = "SUCCESS"
    WITH_ERROR = "WITH_ERROR"


END_SPELLINGS = {
    "SUCCESS": EtlEnd.SUCCESS, "WITH_ERROR": EtlEnd.WITH_ERROR,  # [C]
    "FINISHED": EtlEnd.SUCCESS, "ERROR": EtlEnd.WITH_ERROR,  # [I] older spellings
}
STATUS_FIELDS = ("executionStatus", "status")  # [?] which one the GET body uses


def raw_status(execution: dict[str, Any]) -> str:
    """The status as Actito wrote it ('' when the answer has none), for messages and logs."""
    return next((str(execution[f]) for f in STATUS_FIELDS if execution.get(f)), "")


def end_of(execution: dict[str, Any]) -> EtlEnd | None:
    """How the execution ended, or None while it runs."""
    return END_SPELLINGS.get(raw_status(execution).strip().upper())
