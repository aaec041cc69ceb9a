"""Saved plans: `plan --out FILE` writes one, `apply FILE` runs exactly it, or refuses it if stale.

A plan file is a zip holding `plan.json` (the rendered Plan), `meta.json` (format version,
project path, table prefixes, the fingerprint of everything the plan read, see
`fingerprint.py`, and its warehouse-side reads) and one Parquet file per change-set table
(members, adds, removes, updates of each activation; and, for a `planIn: warehouse` read, its
desired table and the keys read back, gone and unchanged, which apply needs to keep the
warehouse's row hashes), so millions of keys travel compactly. With the project's encryption key,
the zip is sealed whole (AES-GCM in chunks, see state/encryption.py) behind a small header
naming the format, the key id and the key's variable, so `apply FILE` finds the key itself;
the plain zip only ever exists in a private temporary folder.
"""
from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.planning.fingerprint import Fingerprint
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Workspace
from reconciler.planning.warehouse import saved_reads, warehouse_tables
from reconciler.private import create_private
from reconciler.state.encryption import (
    FILE_MAGIC,
    StateKey,
    is_sealed_file,
    open_file,
    read_header,
    seal_file,
)

PLAN_FILE_VERSION = 4  # 4: the fingerprint names each file and structure part it hashed
CHANGE_SET_ROLES = ("members", "adds", "removes", "updates")


class StalePlanError(ReconcilerError):
    """What a saved plan read has changed since: it no longer says what apply would do."""


def write_plan_file(path: Path, plan: Plan, workspace: Workspace, fingerprint: Fingerprint,
                    project_root: Path, key: StateKey | None = None) -> None:
    """Save the plan to `path` (0600), sealed with `key` when given."""
    meta = {
        "plan_file_version": PLAN_FILE_VERSION,
        "project": str(project_root.resolve()),
        "prefixes": {name: tables.prefix for name, tables in workspace.tables.items()},
        "hash_format": workspace.hash_format,
        "fingerprint": asdict(fingerprint),
        "warehouse": saved_reads(workspace.warehouse),
    }
    create_private(path)  # it holds change sets: member keys and values
    with tempfile.TemporaryDirectory(prefix="plan-") as folder:
        zipped = path if key is None else Path(folder) / "plan.zip"
        _write_archive(zipped, Path(folder), plan, workspace, meta)
        if key is not None:
            with zipped.open("rb") as source, path.open("wb") as target:
                seal_file(source, target, key)


def _write_archive(zipped: Path, folder: Path, plan: Plan, workspace: Workspace,
                   meta: dict[str, object]) -> None:
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Computed fields (summary, match rates) are derived again when the plan is read.
        archive.writestr("plan.json",
                         plan.model_dump_json(indent=2, exclude_computed_fields=True))
        archive.writestr("meta.json", json.dumps(meta, indent=2))
        for table in _existing_tables(workspace, CHANGE_SET_ROLES):
            local = folder / f"{table}.parquet"
            workspace.conn.execute(
                f"COPY (SELECT * FROM \"{table}\") TO '{local}' (FORMAT parquet)")
            archive.write(local, f"changesets/{table}.parquet", compress_type=zipfile.ZIP_STORED)


def read_plan_file(path: Path, workspace: Workspace) -> tuple[Plan, Fingerprint, Path]:
    """Load a saved plan and its change sets into `workspace`; (plan, fingerprint, project).
    A sealed plan is opened with the key of the variable its header names."""
    with tempfile.TemporaryDirectory(prefix="plan-") as folder:
        return _read_archive(path, _opened(path, Path(folder)), folder, workspace)


def is_plan_file(path: Path) -> bool:
    """Whether `path` is a saved plan (plain or sealed), not manifests."""
    return path.is_file() and (zipfile.is_zipfile(path) or is_sealed_file(path))


def _opened(path: Path, folder: Path) -> Path:
    """The plain zip of plan file `path`: itself, or opened into `folder`."""
    if not path.is_file() or not is_sealed_file(path):
        return path
    zipped = folder / "plan.zip"
    with path.open("rb") as source, zipped.open("wb") as target:
        source.read(len(FILE_MAGIC))
        header, _ = read_header(source, path)
        key = StateKey.from_env(header.env, f"the saved plan {path}")
        source.seek(len(FILE_MAGIC))
        open_file(source, target, key, path)
    return zipped


def _read_archive(path: Path, zipped: Path, folder: str,
                  workspace: Workspace) -> tuple[Plan, Fingerprint, Path]:
    if not zipfile.is_zipfile(zipped):
        raise ReconcilerError(f"{path} is not a plan file written by `reconciler plan --out`")
    with zipfile.ZipFile(zipped) as archive:
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
    workspace.saved_reads = meta.get("warehouse", {})  # bound to the project by its loader
    return plan, Fingerprint(**meta["fingerprint"]), Path(meta["project"])


def _existing_tables(workspace: Workspace, roles: Iterable[str]) -> list[str]:
    present = {row[0] for row in workspace.conn.execute(
        "SELECT table_name FROM duckdb_tables() "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()}
    names = [getattr(tables, role) for tables in workspace.tables.values() for role in roles]
    return [name for name in [*names, *warehouse_tables(workspace.warehouse)]
            if name in present]
