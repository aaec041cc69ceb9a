"""State files, locks, saved plans and spill folders only the owner can read, whatever the umask
(they hold member keys: emails, phone numbers, ids)."""
from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.planning.plan import Plan
from reconciler.planning.planfile import Fingerprint, write_plan_file
from reconciler.planning.planner import Workspace
from reconciler.state import RunStatus, exposed_state_files, open_state_store
from tests.manifests.conftest import EXAMPLE


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The usual umask 022: files default to 0644, folders to 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_duckdb_state_its_log_and_lock_are_0600_in_a_0700_folder(tmp_path: Path) -> None:
    # Scenario: the first apply of a fresh clone makes .reconciler/state.duckdb and writes
    # a run and a snapshot; while it holds the store, every file it made is the owner's only.
    location = tmp_path / "repo" / ".reconciler" / "state.duckdb"
    (tmp_path / "repo").mkdir()
    with open_state_store(location) as store:
        run = store.start_run("vip")
        store.write_snapshot("vip", [pa.record_batch(
            [pa.array(["alice@example.com"]), pa.array(["h"])],
            names=["member_key", "attributes_hash"])])
        store.finish_run(run, RunStatus.SUCCEEDED, counts={})
        files = [location, location.with_name("state.duckdb.wal"),
                 location.with_name("state.duckdb.lock")]
        present = [file for file in files if file.exists()]
        assert location in present and location.with_name("state.duckdb.lock") in present
        assert {file.name: mode(file) for file in present} == {f.name: 0o600 for f in present}
    assert mode(location) == 0o600 and mode(location.parent) == 0o700
    assert mode(tmp_path / "repo") == 0o755  # a folder that existed keeps its mode
    assert exposed_state_files(str(location)) == []


def test_a_saved_plan_is_0600_even_over_an_older_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.zip"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    workspace = Workspace()
    try:
        plan = Plan(created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), activations=())
        write_plan_file(path, plan, workspace, Fingerprint(manifests="m"), tmp_path)
    finally:
        workspace.close()
    assert mode(path) == 0o600


def test_the_workspace_spill_folder_is_0700_and_removed(tmp_path: Path) -> None:
    workspace = Workspace()
    folder = workspace.spill_directory
    assert folder.is_dir() and mode(folder) == 0o700
    workspace.close()
    assert not folder.exists()


def test_status_warns_about_a_state_file_others_can_read(tmp_path: Path) -> None:
    # Scenario: a state file made by an older version (0644): status says so and how to fix it.
    location = tmp_path / "state.duckdb"
    open_state_store(location).close()
    os.chmod(location, 0o644)
    result = CliRunner().invoke(app, ["status", str(EXAMPLE), "--state", str(location)])
    assert result.exit_code == 0, result.output
    assert f"Warning: {location} is readable by other users" in result.output
    assert f"chmod 600 {location}" in result.output
