"""A remote list whose file expires, seen from the state when the destination cannot be read.

An Actito list set up in the portal has no documented read: its last key file's expiry is known
only from when this tool last wrote it (the snapshot's time) and the validity period the
manifests give. When that file would stop targeting before the next scheduled run, the plan
drops it again (an `~` on the list), as it does for a list read through its (inferred) route.
Pure: settings, structure and times in, resource changes out.
"""
from __future__ import annotations

import datetime as dt

from reconciler.changes.resources import Action, ResourceChange
from reconciler.destinations.base import Structure
from reconciler.destinations.capabilities import capabilities_of
from reconciler.manifests.settings import EffectiveActivation


def file_refresh(settings: EffectiveActivation, structure: Structure,
                 last_written: dt.datetime, now: dt.datetime) -> tuple[ResourceChange, ...]:
    """The list's refresh when its last file (written at `last_written`) expires before the
    next scheduled run; none when the destination read the list itself, or lists do not
    expire there."""
    declared = capabilities_of(settings.destination_type)
    if declared is None or structure.list_exists:
        return ()
    if any(r.type is declared.list_type for r in structure.resources):
        return ()
    deadline = declared.refresh_deadline(settings, last_written)
    horizon = settings.schedule_interval() or dt.timedelta(0)
    if deadline is None or deadline > now + horizon:
        return ()
    expires = declared.file_expiry(settings, last_written)
    when = f"{expires:%Y-%m-%d %H:%M} UTC" if expires is not None else "soon"
    return (ResourceChange(
        action=Action.UPDATE, type=declared.list_type, name=structure.remote_name,
        detail="drop its key file again",
        reason=f"the last file, written {last_written:%Y-%m-%d %H:%M} UTC, expires at {when}, "
               "before the next scheduled run"),)
