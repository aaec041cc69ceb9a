"""The notices of `run --due`: a destination's API key about to expire, told once to the
channels of its activations (what and to whom: `reconciler.notifying.expiry`)."""
from __future__ import annotations

import datetime as dt

from reconciler.manifests.project import Project
from reconciler.notifying import NoticeDelivery, expiring_keys, send_key_expiry_notices
from reconciler.operations.plans import state_location
from reconciler.state import open_state_store


def notify_expiring_keys(project: Project, state: str | None,
                         now: dt.datetime) -> list[NoticeDelivery]:
    """Send the key-expiry notices not sent yet; the deliveries tried.

    The store `execute` writes (same location) remembers them. It is opened here, before and
    apart from `execute`'s, because a notice is due whether or not an activation is, and a
    DuckDB file has one writer at a time; and only when a key expires soon, so a usual run
    does not open it for writing at all.
    """
    pending = expiring_keys(project, now)
    if not pending:
        return []
    with open_state_store(state_location(state)) as store:
        return send_key_expiry_notices(project, pending, store)
