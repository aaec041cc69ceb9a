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
from reconciler.state import SnapshotInfo


def file_refresh(settings: EffectiveActivation, structure: Structure,
                 snapshot: SnapshotInfo | None, replaced: object | None,
                 now: dt.datetime) -> tuple[ResourceChange, ...]:
    """The list's refresh when the file the last apply wrote (the snapshot's time) expires
    before the next scheduled run; none when the destination read the list itself, lists do
    not expire there, nothing was written yet or the list is `replaced` (written whole)."""
    declared = capabilities_of(settings.destination_type)
    if declared is None or structure.list_exists or snapshot is None or replaced is not None:
        return ()
    last_written = snapshot.taken_at
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
