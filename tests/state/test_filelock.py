"""The DuckDB state file's writer lock: shared within a process, named to other processes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reconciler.state import open_state_store
from reconciler.state.filelock import describe_process, lock_path, read_holder


def test_writers_of_one_process_share_the_file_and_the_last_clears_its_name(
    tmp_path: Path,
) -> None:
    # Scenario: the executor and its lease keeper open the same file in one process.
    location = tmp_path / "state.duckdb"
    with open_state_store(location) as first:
        with open_state_store(location) as second:
            second.acquire_lock("vip", "apply", 60)
            assert "'vip' (lease until" in read_holder(location)
        assert first.locks()[0].activation == "vip"
        assert read_holder(location).startswith(f"pid {describe_process().split()[1]} ")
    assert lock_path(location).read_text("utf-8") == ""
    assert read_holder(location, patience=0) == "another process"


def test_the_holder_description_hides_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: the holder's command line carries a URL with a password.
    monkeypatch.setattr(sys, "argv", ["/venv/bin/reconciler", "apply", "--state",
                                      "postgresql://ci:s3cret@db/state"])
    described = describe_process()
    assert "s3cret" not in described
    assert "(reconciler apply --state postgresql://***@db" in described
