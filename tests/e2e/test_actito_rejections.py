"""Actito rejecting lines of an import: reported, and not recorded as applied."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox.actito.etl import split_multipart
from reconciler.sandbox.http import Request
from tests.e2e.conftest import Stack, one_shot_imports, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py


def _cli(stack: Stack, command: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [command, *stack.cli_args(), "-a", "churn-actito", *extra])
    return result.exit_code, printed(result)



@pytest.fixture(autouse=True)
def _one_shot(stack: Stack) -> None:
    """These scenarios are about one-shot executions (the example triggers ETL 601)."""
    one_shot_imports(stack.manifests)

def test_an_import_ending_with_error_leaves_its_rows_unapplied(stack: Stack) -> None:
    # Scenario: a member's profile is deleted in Actito just as the import starts, so its line
    # is rejected and the execution ends WITH_ERROR. Actito does not say (in any documented
    # field) which lines it rejected: no row of that import is recorded as applied, the next
    # plan sends them all again, and once that goes through the plan is empty.
    table = stack.actito.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    code, text = _cli(stack, "plan", "--format", "json")
    planned = json.loads(text)["activations"][0]
    updates = planned["attributes"]["updates"]
    assert code == 0 and updates > 10, text
    gone: dict[str, object] = {}

    def delete_one(request: Request) -> None:
        """At the import's start, delete the profile of the file's first line."""
        if request.method != "POST" or not request.path.endswith("/etl-executions") or gone:
            return
        with zipfile.ZipFile(io.BytesIO(split_multipart(request)["inputFile"])) as archive:
            first = archive.read(archive.namelist()[0]).decode("utf-8").splitlines()[1]
        with stack.actito.store.lock:
            pid = table.find("customerId", first.split(",")[0])
            assert pid is not None
            gone.update(table.profiles[pid])
            table.delete(pid)

    stack.actito.faults.before_answer = delete_one
    code, applied = _cli(stack, "apply", "--auto-approve")
    stack.actito.faults.before_answer = None
    assert code == 0 and gone, applied
    assert f"profile updates {updates - 1:,}/{updates:,}" in applied, applied
    assert f"1 of {updates:,} profile updates rejected by the destination" in applied, applied
    assert str(gone["customerId"]) not in applied
    unhashed = stack.state_sql("SELECT count(*) FROM snapshots WHERE activation = "
                               "'churn-actito' AND attributes_hash IS NULL")
    assert unhashed == [(updates,)]

    with stack.actito.store.lock:  # the profile comes back (restored from a backup, say)
        table.create({k: v for k, v in gone.items() if k != "profileId"}, "2026-11-01 12:00:00")
    code, text = _cli(stack, "plan", "--format", "json")
    assert json.loads(text)["activations"][0]["attributes"]["updates"] == updates, text
    code, applied = _cli(stack, "apply", "--auto-approve")
    assert code == 0 and "rejected" not in applied, applied
    assert _cli(stack, "plan", "--detailed-exitcode")[0] == 0
