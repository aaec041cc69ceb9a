"""Apply locks between real processes on both backends: races and a holder killed by SIGKILL."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.state import LockedError, StoreInUseError
from tests.state.conftest import StateTarget


def _racers(state: StateTarget, owners: list[str], lease: float,
            go: Path) -> list[subprocess.Popen[str]]:
    """Start one process per owner and return once every one is ready to go. A winner holds
    the lock until its stdin is closed (`communicate`) or it is killed."""
    processes = [subprocess.Popen(
        [sys.executable, "-m", "tests.state.lock_racer", state.location, state.schema, owner,
         str(lease), str(go)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    ) for owner in owners]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return processes


def _is_duckdb(state: StateTarget) -> bool:
    return not state.location.startswith("postgresql")


def test_processes_racing_for_one_activation_only_one_wins(
    state: StateTarget, tmp_path: Path
) -> None:
    # Scenario: three applies of 'vip' start at the same moment: exactly one holds the lock.
    state.writer().close()  # the store exists and is migrated before the race
    go = tmp_path / "go"
    racers = _racers(state, [f"racer {i}" for i in range(3)], 30, go)
    go.touch()
    # Every racer says `won` or `locked` once it has tried; the winner holds on until then.
    tried = [racer.stdout.readline() for racer in racers if racer.stdout is not None]
    outputs = [(said + racer.communicate(timeout=30)[0]).strip()
               for said, racer in zip(tried, racers, strict=True)]
    assert sorted(out.split()[0] for out in outputs) == ["locked", "locked", "won"], outputs
    winner = outputs.index("won")
    for out in outputs[:winner] + outputs[winner + 1:]:
        if _is_duckdb(state):  # the winner's process has the file: named by its pid
            assert out.startswith(f"locked StoreInUseError: the state store {state.location} "
                                  f"is in use by pid {racers[winner].pid} "), out
        else:
            assert out.startswith(f"locked LockedError: activation 'vip' is locked by racer "
                                  f"{winner} since "), out
    with state.writer() as store:
        assert store.locks() == ()  # the winner released it


def test_a_killed_holder_is_taken_over_once_its_lease_runs_out(
    state: StateTarget, tmp_path: Path
) -> None:
    # Scenario: an apply holding 'vip' is killed (-9); the next takes over (PG: after the lease).
    state.writer().close()
    go = tmp_path / "go"
    go.touch()
    [holder] = _racers(state, ["doomed apply"], 2.0, go)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "won"
    if _is_duckdb(state):
        with pytest.raises(StoreInUseError, match=rf"pid {holder.pid} .*'vip' \(lease until"):
            state.writer()
        with pytest.raises(StoreInUseError, match=rf"in use by pid {holder.pid} "):
            state.reader()  # `plan` and `status` are told too
    else:
        with state.writer() as store, pytest.raises(LockedError, match="doomed apply"):
            store.acquire_lock("vip", "next apply", 30)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=10)  # it is gone; its pipes are closed
    killed_at = time.monotonic()
    with state.writer() as store:
        left = store.locks()
        assert [lock.owner for lock in left] == ["doomed apply"]
        lock = store.acquire_lock("vip", "next apply", 30, wait_seconds=10)
        if _is_duckdb(state):  # no process has the file: the row's holder is known dead
            assert lock.acquired_at < left[0].expires_at
        else:
            assert lock.acquired_at >= left[0].expires_at
        assert time.monotonic() - killed_at < 5
        assert [x.owner for x in store.locks()] == ["next apply"]
