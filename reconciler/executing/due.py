"""When an activation is due: its schedule, its last successful run, its list's validity.

Pure functions of a clock value, so `run --due` can be tested with a frozen clock:
- `manual` is never due on its own;
- `every: D` is due D after the last successful run; `cron` at the first fire time after it;
- never ran successfully → due now;
- after failed runs (failed, stopped by a guard or interrupted) since the last success, the
  next try backs off: the first failure is retried 15 min after it (the next tick of the
  shipped cron), then 30 min, 1 h, … doubling, capped at the schedule's interval, so a broken
  destination is not hammered every tick and a long outage costs one try per interval;
- an Actito list is also due before its file expires (validity period minus a margin), so it
  never targets nobody between two scheduled runs;
- attribute updates deferred for Actito's daily import budget make it due at the next slot.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter

from reconciler.destinations.capabilities import list_refresh_deadline
from reconciler.manifests.models import CronSchedule, EverySchedule
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration
from reconciler.state import RunRecord, RunStatus

FIRST_RETRY = dt.timedelta(minutes=15)  # the shipped workflows tick every 15 minutes
_UNSUCCESSFUL = (RunStatus.FAILED, RunStatus.STOPPED, RunStatus.INTERRUPTED)


@dataclass(frozen=True)
class Due:
    activation: str
    due: bool
    next_at: dt.datetime | None  # None: manual, never due on its own
    reason: str


def next_scheduled(schedule: object, last_success: dt.datetime) -> dt.datetime | None:
    if isinstance(schedule, EverySchedule):
        return last_success + parse_duration(schedule.every)
    if isinstance(schedule, CronSchedule):
        zone = ZoneInfo(schedule.timezone)
        following = croniter(schedule.cron, last_success.astimezone(zone)).get_next(dt.datetime)
        return following.astimezone(dt.UTC)
    return None


def failures_since_success(runs: Sequence[RunRecord]) -> list[dt.datetime]:
    """When each unsuccessful run since the last success started, newest first (`runs`:
    newest first, as the state store lists them; a run still going is not counted)."""
    failures = []
    for run in runs:
        if run.status is RunStatus.SUCCEEDED:
            break
        if run.status in _UNSUCCESSFUL:
            failures.append(run.started_at)
    return failures


def retry_at(schedule: object, failures: Sequence[dt.datetime]) -> dt.datetime | None:
    """When to try again after `failures` (newest first): 15 min after the newest, doubling
    with each further failure, capped at the schedule's interval; None without failures."""
    if not failures:
        return None
    wait = FIRST_RETRY * 2 ** min(len(failures) - 1, 20)
    interval = _interval(schedule, failures[0])
    if interval is not None:
        wait = min(wait, max(interval, FIRST_RETRY))
    return failures[0] + wait


def _interval(schedule: object, around: dt.datetime) -> dt.timedelta | None:
    first = next_scheduled(schedule, around)
    second = next_scheduled(schedule, first) if first is not None else None
    return second - first if first is not None and second is not None else None


def due_status(settings: EffectiveActivation, last_success: dt.datetime | None,
               now: dt.datetime, deferred_until: dt.datetime | None = None,
               failures: Sequence[dt.datetime] = ()) -> Due:
    """`deferred_until`: the last successful run left attribute updates for this import slot
    (Actito's daily budget was used up); the activation is due then to send them.
    `failures`: when the unsuccessful runs since the last success started, newest first."""
    name = settings.name
    if settings.schedule == "manual":
        return Due(name, False, None, "manual schedule: runs only with `reconciler apply`")
    retry = retry_at(settings.schedule, failures)
    if retry is not None:
        tries = f"{len(failures)} unsuccessful run(s) since the last success"
        if last_success is not None:
            # The schedule still counts: a retry never comes later than the next regular run.
            regular = next_scheduled(settings.schedule, last_success)
            if regular is not None and regular > failures[0]:
                retry = min(retry, regular)
        if retry <= now:
            return Due(name, True, retry, f"retry due since {retry:%Y-%m-%d %H:%M} UTC ({tries})")
        return Due(name, False, retry, f"retry at {retry:%Y-%m-%d %H:%M} UTC ({tries}; "
                                       "the wait doubles with each failure)")
    if last_success is None:
        return Due(name, True, now, "no successful run yet")
    candidates = [(when, why) for when, why in (
        (next_scheduled(settings.schedule, last_success), "schedule"),
        (list_refresh_deadline(settings, last_success), "list validity ends"),
        (deferred_until, "deferred attribute updates"),
    ) if when is not None]
    when, why = min(candidates, key=lambda c: c[0])
    if when <= now:
        return Due(name, True, when, f"due since {when:%Y-%m-%d %H:%M} UTC ({why})")
    return Due(name, False, when, f"next due {when:%Y-%m-%d %H:%M} UTC ({why})")
