"""Saved plans: `plan --out FILE` writes one, `apply FILE` runs exactly it, or refuses it if stale.

A plan file is a zip holding `plan.json` (the rendered Plan), `meta.json` (format version,
project path, table prefixes and the fingerprint of everything the plan read) and one Parquet
file per change-set table (members, adds, removes, updates of each activation), so millions of
keys travel compactly. The fingerprint covers the manifests (content hash), the state (serial
per activation), the sources (file sizes and times; a database source is re-read at apply
time only through its serial-free data, so it is recorded as unknown) and the destinations'
structure (what had to be created).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.manifests.loader import discover_files
from reconciler.manifests.models import DuckDBSource, Kind
from reconciler.manifests.project import Project
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Workspace
from reconciler.private import create_private

PLAN_FILE_VERSION = 3  # 3: activations carry their effective settings and import target
CHANGE_SET_ROLES = ("members", "adds", "removes", "updates")


class StalePlanError(ReconcilerError):
    """What a saved plan read has changed since: it no longer says what apply would do."""


@dataclass(frozen=True)
class Fingerprint:
    manifests: str
    state_serials: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    remote: dict[str, str] = field(default_factory=dict)

    def differences(self, current: Fingerprint) -> list[str]:
        """Why `current` no longer matches this (saved) fingerprint; empty when it does."""
        reasons = []
        if self.manifests != current.manifests:
            reasons.append("the manifests changed")
        for name, serial in self.state_serials.items():
            if current.state_serials.get(name, serial) != serial:
                reasons.append(f"the state of activation {name!r} changed (an apply ran since)")
        for name, value in self.sources.items():
            if current.sources.get(name, value) != value:
                reasons.append(f"the data of source {name!r} changed")
        for name, value in self.remote.items():
            if current.remote.get(name, value) != value:
                reasons.append(f"the destination of activation {name!r} changed")
        return reasons


def manifests_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for file in discover_files(root):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def sources_fingerprint(project: Project) -> dict[str, str]:
    """DuckDB sources: sizes and modification times of their files; others: 'unknown'."""
    out = {}
    for name, manifest in project.of_kind(Kind.SOURCE).items():
        spec = manifest.document.spec
        if not isinstance(spec, DuckDBSource):
            out[name] = "unknown"
            continue
        base = manifest.file.parent
        paths = [spec.path] if spec.path else []
        paths += [table.path for table in spec.file_tables().values()]
        digest = hashlib.sha256()
        for pattern in sorted(paths):
            for file in sorted(base.glob(pattern)) if any(c in pattern for c in "*?[") else [
                    base / pattern]:
                stat = file.stat() if file.exists() else None
                digest.update(f"{file}:{stat.st_size if stat else -1}:"
                              f"{stat.st_mtime_ns if stat else -1}\n".encode())
        out[name] = digest.hexdigest()
    return out


def structure_hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def write_plan_file(path: Path, plan: Plan, workspace: Workspace, fingerprint: Fingerprint,
                    project_root: Path) -> None:
    meta = {
        "plan_file_version": PLAN_FILE_VERSION,
        "project": str(project_root.resolve()),
        "prefixes": {name: tables.prefix for name, tables in workspace.tables.items()},
        "hash_format": workspace.hash_format,
        "fingerprint": asdict(fingerprint),
    }
    create_private(path)  # it holds change sets: member keys and values
    with tempfile.TemporaryDirectory(prefix="plan-") as folder, zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Computed fields (summary, match rates) are derived again when the plan is read.
        archive.writestr("plan.json",
                         plan.model_dump_json(indent=2, exclude_computed_fields=True))
        archive.writestr("meta.json", json.dumps(meta, indent=2))
        for table in _existing_tables(workspace, CHANGE_SET_ROLES):
            local = Path(folder) / f"{table}.parquet"
            workspace.conn.execute(
                f"COPY (SELECT * FROM \"{table}\") TO '{local}' (FORMAT parquet)")
            archive.write(local, f"changesets/{table}.parquet", compress_type=zipfile.ZIP_STORED)


def read_plan_file(path: Path, workspace: Workspace) -> tuple[Plan, Fingerprint, Path]:
    """Load a saved plan and its change sets into `workspace`; (plan, fingerprint, project)."""
    if not zipfile.is_zipfile(path):
        raise ReconcilerError(f"{path} is not a plan file written by `reconciler plan --out`")
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(prefix="plan-") as folder:
        meta = json.loads(archive.read("meta.json"))
        if meta.get("plan_file_version") != PLAN_FILE_VERSION:
            raise ReconcilerError(f"{path} was written by another version of the tool; "
                                  "plan again")
        plan = Plan.model_validate_json(archive.read("plan.json"))
        for member in archive.namelist():
            if member.startswith("changesets/") and member.endswith(".parquet"):
                table = Path(member).stem
                local = archive.extract(member, folder)
                workspace.conn.execute(f"CREATE OR REPLACE TEMP TABLE \"{table}\" AS "
                                       f"SELECT * FROM read_parquet('{local}')")
    for name, prefix in meta["prefixes"].items():
        workspace.adopt(name, prefix)
    workspace.hash_format = meta["hash_format"]  # the members' hashes were made there
    return plan, Fingerprint(**meta["fingerprint"]), Path(meta["project"])


def _existing_tables(workspace: Workspace, roles: Iterable[str]) -> list[str]:
    present = {row[0] for row in workspace.conn.execute(
        "SELECT table_name FROM duckdb_tables() "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()}
    return [name for tables in workspace.tables.values() for role in roles
            if (name := getattr(tables, role)) in present]


def fingerprint_of(project: Project, serials: Mapping[str, int],
                   remote: Mapping[str, str]) -> Fingerprint:
    return Fingerprint(manifests=manifests_hash(project.root), state_serials=dict(serials),
                       sources=sources_fingerprint(project), remote=dict(remote))
