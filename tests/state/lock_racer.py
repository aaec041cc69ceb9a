"""A separate process that takes an apply lock, for the lock tests that need real processes.

Run as `python -m tests.state.lock_racer LOCATION SCHEMA OWNER LEASE GO_FILE`: signals it is
ready by printing `ready`, waits for GO_FILE, opens the store (DuckDB: after the go, as the file
lock is taken at open) and takes the lock of activation `vip`, prints `won` or
`locked <error class>: <message>`, and holds the lock until its stdin closes (the test says
when: after every racer has tried) or it is killed.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

from reconciler.state import LockError, StateWriter, open_state_store


def main(location: str, schema: str, owner: str, lease: float, go: Path) -> None:
    store: StateWriter | None = None
    if location.startswith("postgresql"):
        store = open_state_store(location, schema=schema)  # race on the lock, not the open
    print("ready", flush=True)
    pause = threading.Event()
    while not go.exists():  # a file, so that every racer sees the go at the same moment
        pause.wait(0.005)
    try:
        store = store or open_state_store(location, schema=schema)
        lock = store.acquire_lock("vip", owner, lease)
    except LockError as exc:
        print(f"locked {type(exc).__name__}: {exc}", flush=True)
        return
    print("won", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    store.release_lock(lock)
    store.close()


if __name__ == "__main__":
    location, schema, owner, lease, go = sys.argv[1:]
    main(location, schema, owner, float(lease), Path(go))
