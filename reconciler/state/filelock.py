"""The DuckDB state file's writer lock: `flock` on a sibling `<file>.lock`.

Owns one rule: one process at a time writes a DuckDB state file (DuckDB's own rule, made
explicit so a second process gets a `StoreInUseError` naming the holder instead of an engine
error). The lock file holds the holder's identity (pid, host, command, since) and the apply
locks it holds, for that message, and so that a lock row no process of this file holds is known
to be left by a dead one. Writers of one process share the lock (reference counted), as
DuckDB lets one process open a file many times. The kernel drops the lock when the holder
dies, SIGKILL included. Must not decide anything about activation locks: those are rows with
leases (`locks.py`).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from reconciler.private import FILE_MODE
from reconciler.state.errors import StoreInUseError

_CREDENTIALS = re.compile(r"://[^/@\s]+@")
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
    command = _CREDENTIALS.sub("://***@", command)  # a URL argument may carry a password
    return f"pid {os.getpid()} on host {socket.gethostname()} ({command[:120]})"


def acquire_file_lock(path: Path) -> None:
    """Take (or share, within this process) the writer lock of DuckDB file `path`."""
    key = str(lock_path(path).resolve())
    with _guard:
        if key in _held:
            _held[key].users += 1
            return
        # The lock file names the holder's command line: the owner's to read only.
        fd = os.open(key, os.O_CREAT | os.O_RDWR | os.O_APPEND, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        file = open(fd, "a+", encoding="utf-8")  # noqa: SIM115  (kept open while held)
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise StoreInUseError(str(path), read_holder(path)) from None
        identity: dict[str, object] = {
            "holder": describe_process(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
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
            held.file.truncate(0)  # no stale name for the next holder's rivals to read
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


def holds_activation_lock(path: Path, activation: str) -> bool:
    """Whether this process noted holding the activation's apply lock in file `path`."""
    with _guard:
        held = _held.get(str(lock_path(path).resolve()))
        locks = held.identity["locks"] if held else {}
        return isinstance(locks, dict) and activation in locks


def read_holder(path: Path, *, patience: float = 0.5) -> str:
    """Who holds the file, from the lock file. A holder writes it right after locking: until
    then the file is empty or names a dead earlier holder, so look again for a moment."""
    deadline = time.monotonic() + patience
    while True:
        identity = _read_identity(path)
        if identity is not None or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    if identity is None:
        return "another process"
    text = f"{identity['holder']} since {identity['since']}"
    locks = identity.get("locks") or {}
    if locks:
        text += ", holding the apply lock of " + ", ".join(
            f"{name!r} (lease until {until})" for name, until in sorted(locks.items()))
    return text


def _read_identity(path: Path) -> dict[str, Any] | None:
    """The identity in the lock file; None if empty, partly written, or a dead process's."""
    try:
        identity = json.loads(lock_path(path).read_text("utf-8"))
        if not isinstance(identity, dict) or not {"holder", "since", "pid"} <= identity.keys():
            return None
        if identity.get("host") == socket.gethostname() and not _alive(int(identity["pid"])):
            return None
        return identity
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(held: _Held) -> None:
    held.file.seek(0)
    held.file.truncate()
    held.file.write(json.dumps(held.identity, sort_keys=True))
    held.file.flush()
