"""The fingerprint of everything a plan read, and what changed since, in words people can act on.

A saved plan (`planfile.py`) carries one; `apply PLANFILE` takes another of the world as it is
and refuses the plan when they differ, naming each difference: a manifest file, a source's
file, an activation's state serial, an activation's structure at its destination.

Everything is keyed so that the same world gives the same fingerprint from any working
directory: manifest files by their path below the project root, source files by their path
relative to the source's manifest (resolved first), both by a hash of their content (a fresh
checkout or a `touch` changes nothing). A database source (PostgreSQL) is not fingerprinted:
its data is recorded as unknown.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.manifests.loader import discover_files
from reconciler.manifests.models import DuckDBSource, Kind
from reconciler.manifests.project import Project

UNKNOWN = "unknown"  # a source whose data cannot be fingerprinted (a database server)
MISSING = "missing"  # a file named by a source that does not exist
# What each part of an activation's structure at its destination means, for messages.
REMOTE_PARTS = {
    "resources": "what has to be created there (list, segment, fields)",
    "list": "whether its list exists",
    "fields": "its text fields' lengths",
    "errors": "what stops it from syncing",
}


@dataclass(frozen=True)
class Fingerprint:
    manifests: dict[str, str] = field(default_factory=dict)  # file below the root → hash
    state_serials: dict[str, int] = field(default_factory=dict)  # activation → serial
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # source → file → hash
    remote: dict[str, dict[str, str]] = field(default_factory=dict)  # activation → part → hash

    def differences(self, current: Fingerprint) -> list[str]:
        """What changed between this (saved) fingerprint and `current`; empty when nothing."""
        reasons = _changed_files("manifest", self.manifests, current.manifests)
        for name, serial in self.state_serials.items():
            now = current.state_serials.get(name, serial)
            if now != serial:
                reasons.append(f"the state of activation {name!r} moved from serial {serial} "
                               f"to {now} (an apply ran since)")
        for name, files in self.sources.items():
            now_files = current.sources.get(name, files)
            if now_files != files:
                reasons.extend(_changed_files(f"source {name!r}: file", files, now_files))
        for name, parts in self.remote.items():
            now_parts = current.remote.get(name, parts)
            changed = [REMOTE_PARTS.get(part, part)
                       for part in sorted({*parts, *now_parts}, key=_part_order)
                       if parts.get(part) != now_parts.get(part)]
            if changed:
                reasons.append(f"the destination of activation {name!r} changed: "
                               f"{'; '.join(changed)}")
        return reasons


def _part_order(part: str) -> tuple[int, str]:
    order = list(REMOTE_PARTS)
    return (order.index(part) if part in order else len(order), part)


def _changed_files(label: str, saved: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    changes = []
    for path in sorted({*saved, *now}):
        before, after = saved.get(path), now.get(path)
        if before == after:
            continue
        if before is None or before == MISSING:
            how = "was added"
        elif after is None or after == MISSING:
            how = "was removed"
        else:
            how = "changed"
        changes.append(f"{label} {path} {how}")
    return changes


def manifests_fingerprint(root: Path) -> dict[str, str]:
    """Each manifest file below `root` (as a relative POSIX path) → a hash of its content."""
    base = root if root.is_dir() else root.parent
    return {file.relative_to(base).as_posix(): _file_hash(file) for file in discover_files(root)}


def sources_fingerprint(project: Project) -> dict[str, dict[str, str]]:
    """DuckDB sources: each file they read (its path relative to the source's manifest) → a
    hash of its content; other sources: unknown."""
    out = {}
    for name, manifest in project.of_kind(Kind.SOURCE).items():
        spec = manifest.document.spec
        if not isinstance(spec, DuckDBSource):
            out[name] = {"*": UNKNOWN}
            continue
        base = manifest.file.parent.resolve()
        patterns = ([spec.path] if spec.path else []) + [
            table.path for table in spec.file_tables().values()]
        files: dict[str, str] = {}
        for pattern in patterns:
            for file in _expand(base, pattern):
                files[os.path.relpath(file.resolve(), base)] = (
                    _file_hash(file) if file.is_file() else MISSING)
        out[name] = files
    return out


def _expand(base: Path, pattern: str) -> Iterable[Path]:
    if any(c in pattern for c in "*?["):
        return sorted(base.glob(pattern))
    return [base / pattern]


def _file_hash(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def structure_hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint_of(project: Project, serials: Mapping[str, int],
                   remote: Mapping[str, dict[str, str]]) -> Fingerprint:
    return Fingerprint(manifests=manifests_fingerprint(project.root),
                       state_serials=dict(serials), sources=sources_fingerprint(project),
                       remote=dict(remote))
