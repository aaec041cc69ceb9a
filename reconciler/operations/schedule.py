"""Which activations are due: `every`/`cron` schedules, Actito list validity and deferred
attribute updates, counted from each activation's last successful run in the state store."""
from __future__ import annotations

import datetime as dt

from reconciler.executing.due import Due, due_status, failures_since_success
from reconciler.manifests.project import Project
from reconciler.manifests.settings import effective_activations
from reconciler.operations.plans import state_location
from reconciler.state import RunStatus, open_state_reader


def due_statuses(project: Project, state: str | None, now: dt.datetime) -> list[Due]:
    """Every activation's due status, from its last successful run in the state store."""
    reader = open_state_reader(state_location(state))
    try:
        statuses = []
        for name, settings in sorted(effective_activations(project).items()):
            runs = reader.runs(name, limit=50)
            last = next((r for r in runs if r.status is RunStatus.SUCCEEDED), None)
            deferred = reader.deferred_updates(last.run_id) if last else None
            statuses.append(due_status(settings, last.started_at if last else None, now,
                                       deferred.until if deferred else None,
                                       failures_since_success(runs)))
        return statuses
    finally:
        reader.close()
