"""Files and folders only their owner can read, whatever the umask.

The state store, its lock, saved plans and the planning workspace's spill files hold raw member
keys (emails, phone numbers, ids) and mapped values. They are created 0600 inside folders made
0700, and a file another program created for us (DuckDB's database and its write-ahead log) is
narrowed to 0600 once it exists. `exposed` tells whether an existing file is readable by others,
for `status` to warn about stores made by older versions. Pure filesystem helpers: no policy.
"""
from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Make `path` (and missing parents) as folders only the owner can enter; a folder that
    already existed keeps its mode (it may be the user's own, e.g. the repository)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
        with contextlib.suppress(OSError):
            os.chmod(folder, FOLDER_MODE)  # mkdir's mode is masked by the umask
    return path


def create_private(path: Path) -> None:
    """Create `path` empty, or truncate it, readable and writable by the owner only."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    finally:
        os.close(fd)


def make_private(*paths: Path) -> None:
    """Narrow existing files to 0600 (missing ones are skipped)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
                os.chmod(path, FILE_MODE)


def exposed(path: Path) -> bool:
    """Whether an existing file or folder gives any access to group or others."""
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except FileNotFoundError:
        return False
