"""Why a plan reads the destination after an apply that did not finish, said as what it was."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from reconciler.operations.plans import refresh_notes, refresh_reason
from reconciler.state import RunStatus, open_state_reader, open_state_store

T0 = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def test_killed_interrupted_and_failed_applies_are_told_apart(tmp_path: Path) -> None:
    # Scenario: one apply was killed (its run still `running`), one stopped by Ctrl-C, one
    # failed, one succeeded: the plan says "resuming after an interrupted apply" only for the
    # first two, "failed" for the third, and nothing for the last.
    location = tmp_path / "state.duckdb"
    with open_state_store(location) as store:
        store.start_run("killed", started_at=T0)
        for name, status in (("ctrl-c", RunStatus.INTERRUPTED), ("broken", RunStatus.FAILED),
                             ("fine", RunStatus.SUCCEEDED)):
            store.finish_run(store.start_run(name, started_at=T0), status, finished_at=T0)
    with open_state_reader(location) as reader:
        reasons = {name: refresh_reason(reader, name)
                   for name in ("killed", "ctrl-c", "broken", "fine")}
    assert reasons == {"killed": RunStatus.INTERRUPTED, "ctrl-c": RunStatus.INTERRUPTED,
                       "broken": RunStatus.FAILED, "fine": None}
    lagging = {name: why for name, why in reasons.items() if why is not None}
    assert refresh_notes(lagging) == [
        "Resuming after an interrupted apply of killed, ctrl-c: reading the destinations' "
        "actual membership.",
        "The last apply of broken failed (it may have written part of its changes): reading "
        "the destinations' actual membership."]
