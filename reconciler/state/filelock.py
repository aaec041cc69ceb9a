"""The DuckDB state file's writer lock: `flock` on a sibling `<file>.lock`.

Owns one rule: one process at a time writes a DuckDB state file (DuckDB's own rule, made
explicit so a second process gets a `StoreInUseError` naming the holder instead of an engine
error). The lock file holds the holder's identity (pid, host, command, since) and the apply
locks it holds, for that message. Writers of one process share the lock (reference counted),
as DuckDB lets one process open a file many times. The kernel drops the lock when the holder
dies, SIGKILL included. Must not decide anything about activation locks: those are rows with
leases (`locks.py`).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from reconciler.state.errors import StoreInUseError

_held: dict[str, _Held] = {}
_guard = threading.Lock()


@dataclass
class _Held:
    file: IO[str]
    users: int
    identity: dict[str, object]


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def describe_process() -> str:
    """`pid 4242 on host ci-7 (reconciler apply …)`: who this process is, for messages."""
    command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]) if sys.argv else "python"
    return f"pid {os.getpid()} on host {socket.gethostname()} ({command[:120]})"


def acquire_file_lock(path: Path) -> None:
    """Take (or share, within this process) the writer lock of DuckDB file `path`."""
    key = str(lock_path(path).resolve())
    with _guard:
        if key in _held:
            _held[key].users += 1
            return
        file = open(key, "a+", encoding="utf-8")  # noqa: SIM115  (kept open while held)
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise StoreInUseError(str(path), read_holder(path)) from None
        identity: dict[str, object] = {
            "holder": describe_process(),
            "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "locks": {},
        }
        _held[key] = _Held(file, 1, identity)
        _write(_held[key])


def release_file_lock(path: Path) -> None:
    key = str(lock_path(path).resolve())
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        held.users -= 1
        if held.users == 0:
            del _held[key]
            held.file.close()  # closing the descriptor drops the flock


def note_activation_lock(path: Path, activation: str, expires_at: str | None) -> None:
    """Show in the lock file which apply locks this process holds (None: released)."""
    key = str(lock_path(path).resolve())
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        locks = held.identity["locks"]
        assert isinstance(locks, dict)
        if expires_at is None:
            locks.pop(activation, None)
        else:
            locks[activation] = expires_at
        _write(held)


def read_holder(path: Path) -> str:
    """Who holds the file, from the lock file (best effort: it may be mid-write)."""
    try:
        identity = json.loads(lock_path(path).read_text("utf-8"))
        text = f"{identity['holder']} since {identity['since']}"
        locks = identity.get("locks") or {}
        if locks:
            text += ", holding the apply lock of " + ", ".join(
                f"{name!r} (lease until {until})" for name, until in sorted(locks.items()))
        return text
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _write(held: _Held) -> None:
    held.file.seek(0)
    held.file.truncate()
    held.file.write(json.dumps(held.identity, sort_keys=True))
    held.file.flush()
