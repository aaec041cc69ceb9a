"""A separate process that takes an apply lock, for the lock tests that need real processes.

Run as `python -m tests.state.lock_racer LOCATION SCHEMA OWNER LEASE HOLD GO_FILE`: signals it
is ready by printing `ready`, waits for GO_FILE, opens the store (DuckDB: after the go, as the
file lock is taken at open) and takes the lock of activation `vip`, prints `won` or
`locked <error class>: <message>`, and holds the lock for HOLD seconds (forever if negative,
until killed).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from reconciler.state import LockError, StateWriter, open_state_store


def main(location: str, schema: str, owner: str, lease: float, hold: float, go: Path) -> None:
    store: StateWriter | None = None
    if location.startswith("postgresql"):
        store = open_state_store(location, schema=schema)  # race on the lock, not the open
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    try:
        store = store or open_state_store(location, schema=schema)
        lock = store.acquire_lock("vip", owner, lease)
    except LockError as exc:
        print(f"locked {type(exc).__name__}: {exc}", flush=True)
        return
    print("won", flush=True)
    time.sleep(hold if hold >= 0 else 3600)
    store.release_lock(lock)
    store.close()


if __name__ == "__main__":
    location, schema, owner, lease, hold, go = sys.argv[1:]
    main(location, schema, owner, float(lease), float(hold), Path(go))
