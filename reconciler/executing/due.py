"""When an activation is due: its schedule, its last successful run, its list's validity.

Pure functions of a clock value, so `run --due` can be tested with a frozen clock:
- `manual` is never due on its own;
- `every: D` is due D after the last successful run; `cron` at the first fire time after it;
- never ran successfully (or only failed) → due now (a failed run is retried at the next tick);
- an Actito list is also due before its file expires (validity period minus a margin), so it
  never targets nobody between two scheduled runs;
- attribute updates deferred for Actito's daily import budget make it due at the next slot.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter

from reconciler.destinations.capabilities import list_refresh_deadline
from reconciler.manifests.models import CronSchedule, EverySchedule
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration


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


def due_status(settings: EffectiveActivation, last_success: dt.datetime | None,
               now: dt.datetime, deferred_until: dt.datetime | None = None) -> Due:
    """`deferred_until`: the last successful run left attribute updates for this import slot
    (Actito's daily budget was used up); the activation is due then to send them."""
    name = settings.name
    if settings.schedule == "manual":
        return Due(name, False, None, "manual schedule: runs only with `reconciler apply`")
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
