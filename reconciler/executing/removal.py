"""Acting on activations removed from the manifests, and remembering what each one owns.

After every successful apply the executor records what the activation was applied to (its
destination, its remote list and its deletionPolicy), so that once its manifest is gone a plan
can still say what to do about it (planning/removal.py). Applying such a plan, under the
activation's lock, deletes the remote list (journaled) when the plan says so and then forgets
the activation's state; its run history stays. With deletionPolicy keep nothing is done.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from reconciler.destinations.base import DestinationWriter
from reconciler.destinations.errors import DestinationError
from reconciler.executing.journal import BatchJournal
from reconciler.planning.plan import ActivationPlan
from reconciler.state import ActivationRecord, RunStatus, StateWriter
from reconciler.state.errors import LockLostError
from reconciler.state.keeper import LockKeeper


def record_applied(state: StateWriter, planned: ActivationPlan, deletion_policy: str,
                   now: dt.datetime) -> None:
    """Remember what `planned` was applied to, with the policy the manifests give it now."""
    state.record_activation(ActivationRecord(
        planned.activation, planned.destination, planned.destination_type, planned.target,
        planned.remote_name, str(deletion_policy), now))


def apply_removal(state: StateWriter, writer: DestinationWriter | None, planned: ActivationPlan,
                  keeper: LockKeeper, clock: Callable[[], dt.datetime]) -> str | None:
    """Delete what the removed activation's plan says, then forget its state; what was done,
    or None when there was nothing to do (kept). A destination error is recorded as the run's
    failure and raised (the state stays, so the next plan shows the deletion again)."""
    if not planned.resources:
        return None
    if writer is None:
        raise AssertionError(f"no writer for destination {planned.destination}")
    name = planned.activation
    run_id = state.start_run(name, started_at=clock())
    try:
        writer.delete_resources(planned.resources, BatchJournal(state, run_id, name, keeper))
    except (DestinationError, LockLostError) as exc:
        state.finish_run(run_id, RunStatus.FAILED, error=str(exc), finished_at=clock())
        raise
    state.finish_run(run_id, RunStatus.SUCCEEDED, counts={"deleted": len(planned.resources)},
                     finished_at=clock())
    state.forget_activation(name)
    deleted = ", ".join(f"{r.type.label} {r.name}" for r in planned.resources)
    return f"deleted {deleted}; the activation's state is forgotten (its runs are kept)"
