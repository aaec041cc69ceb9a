"""Encryption at rest, end to end: the example project applied with `state.encryption` on
both state backends; neither the state nor a saved plan holds a readable key, email or phone."""
from __future__ import annotations

import base64
import csv
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import SEED, Stack, printed

runner = CliRunner()
KEY_ENV, OLD_ENV = "RECONCILER_STATE_KEY", "RECONCILER_OLD_STATE_KEY"
PROJECT_FILE = ("manifests: manifests\nstate:\n  encryption:\n"
                f"    key: ${{env:{KEY_ENV}}}\n")


def _personal_data() -> set[bytes]:
    """Every customer id, email and phone number of the example data."""
    with SEED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    values = {row[column] for row in rows for column in ("customer_id", "email", "phone")}
    return {value.encode() for value in values if value}


def _found(data: bytes, personal: set[bytes]) -> list[bytes]:
    # Runs of NUL bytes (most of a DuckDB file) become one: no value holds a NUL, so none is
    # found or lost by it, and 15,000 searches run over kilobytes instead of megabytes.
    packed = re.sub(rb"\x00+", b"\x00", data)
    return sorted(value for value in personal if value in packed)


def _state_bytes(stack: Stack) -> bytes:
    """What the state holds as stored: the DuckDB file (and its log), or every row of every
    table of the PostgreSQL schema as text."""
    if isinstance(stack.state, Path):
        wal = stack.state.with_name(stack.state.name + ".wal")
        return stack.state.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    tables = [name for (name,) in stack.state_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    return b"\n".join(str(row).encode() for table in tables
                      for row in stack.state_sql(f"SELECT t::text FROM {table} AS t"))


def _run(stack: Stack, *args: str, project: bool = True) -> tuple[int, str]:
    """A command; with `project`, on the stack's manifests, state and moment."""
    if project:
        args = (*args, *stack.cli_args())
    result = runner.invoke(app, list(args), input="")
    return result.exit_code, printed(result)


def test_an_encrypted_state_and_saved_plan_hold_no_personal_data_and_still_converge(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: the project file turns encryption on; plan --out, apply the saved plan, plan
    # again (no changes); the state and the plan file show none of the demo's keys, emails
    # or phones; a wrong or missing key is a clear error; rekey, then plan still converges.
    (stack.workdir / "reconciler.yaml").write_text(PROJECT_FILE, "utf-8")
    first, second = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    monkeypatch.setenv(KEY_ENV, first)
    personal = _personal_data()
    saved = stack.workdir / "saved.plan"
    code, text = _run(stack, "plan", "--out", str(saved))
    assert code == 0, text
    assert len(personal) > 1000 and _found(saved.read_bytes(), personal) == []
    assert saved.stat().st_mode & 0o777 == 0o600

    monkeypatch.setenv(KEY_ENV, second)
    code, text = _run(stack, "apply", str(saved), "--state", str(stack.state),
                      project=False)
    assert code == 1 and f"Error: {saved} was sealed with key id" in text, text
    assert f"${KEY_ENV} holds key id" in text and first not in text
    monkeypatch.setenv(KEY_ENV, first)
    code, text = _run(stack, "apply", str(saved), "--state", str(stack.state),
                      project=False)
    assert code == 0 and "Apply complete: 4 applied, 0 failed or stopped." in text, text
    code, text = _run(stack, "plan")
    assert code == 0 and text == "No changes. The destinations match the manifests.\n", text
    assert _found(_state_bytes(stack), personal) == []

    monkeypatch.setenv(KEY_ENV, second)
    code, text = _run(stack, "plan")
    assert code == 1 and "is encrypted with key id" in text and f"${KEY_ENV} holds" in text
    monkeypatch.delenv(KEY_ENV)
    code, text = _run(stack, "plan")
    assert code == 1 and f"${KEY_ENV} (named by" in text and "is not set" in text, text

    monkeypatch.setenv(OLD_ENV, first)
    monkeypatch.setenv(KEY_ENV, second)
    code, text = _run(stack, "state", "rekey", "--old-key-env", OLD_ENV, "--new-key-env",
                      KEY_ENV, "--state", str(stack.state), project=False)
    assert code == 0 and "the state store is now encrypted with key id" in text, text
    code, text = _run(stack, "plan")
    assert code == 0 and text == "No changes. The destinations match the manifests.\n", text
    assert _found(_state_bytes(stack), personal) == []


def test_encryption_is_turned_on_for_an_existing_plain_state_with_rekey(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a project applied without encryption adds the setting: plan refuses (the
    # store is plain) and says how; `state rekey --new-key-env` encrypts it; plan converges.
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    # A plain store holds them (so the search below finds what is there).
    assert _found(_state_bytes(stack), _personal_data())
    (stack.workdir / "reconciler.yaml").write_text(PROJECT_FILE, "utf-8")
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    code, text = _run(stack, "plan")
    assert code == 1 and "is not encrypted, but the project file gives it a key" in text
    assert f"reconciler state rekey --new-key-env {KEY_ENV}" in text
    code, text = _run(stack, "state", "rekey", "--new-key-env", KEY_ENV,
                      "--state", str(stack.state), project=False)
    assert code == 0, text
    code, text = _run(stack, "plan")
    assert code == 0 and text == "No changes. The destinations match the manifests.\n", text
    assert _found(_state_bytes(stack), _personal_data()) == []
