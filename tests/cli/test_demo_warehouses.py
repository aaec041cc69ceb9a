"""`reconciler demo --source postgres|snowflake`: the example's data moved into a warehouse,
the same plan as on DuckDB, applied, and a second plan with no changes."""
from __future__ import annotations

import os
import re
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox.snowflake import EMULATOR_PASSWORD_ENV
from reconciler.sandbox.warehouses import POSTGRES_URL_ENV

runner = CliRunner()
SAME_PLAN = "Plan: 3 to create, 0 to update, 0 to delete; members +2,899 −0"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # The demo exports the variables its manifests name: restored after each test.
    monkeypatch.setenv(EMULATOR_PASSWORD_ENV, "unset")
    monkeypatch.delenv(POSTGRES_URL_ENV, raising=False)


def _check(output: str) -> None:
    assert SAME_PLAN in output, output
    assert output.count(": applied") == 4, output
    assert output.rstrip().splitlines()[-1].startswith("Done."), output
    assert "No changes. The destinations match the manifests." in output


def test_demo_on_postgres(postgres_url: str, postgres_schema: str, tmp_path: Path) -> None:
    # Scenario: the example loaded into a PostgreSQL schema, its model SQL translated from
    # DuckDB's dialect: same plan as the DuckDB demo, applied, then "No changes".
    result = runner.invoke(app, ["demo", "--source", "postgres", "--postgres-url", postgres_url,
                                 "--schema", postgres_schema, "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert f"Warehouse: PostgreSQL, schema {postgres_schema}" in result.output
    _check(result.output)
    assert "postgresql://" not in result.output  # the URL (and any password) is never shown


def test_demo_on_snowflake(tmp_path: Path) -> None:
    # Scenario: the example loaded into the Snowflake emulator started in process, read by
    # the real connector over HTTP: same plan, applied, then "No changes".
    try:
        import fakesnow  # noqa: F401
    except ImportError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the Snowflake emulator: {exc}")
        pytest.skip(f"the Snowflake emulator is not installed: {exc}")
    schema = f"demo_{uuid.uuid4().hex[:8]}"
    result = runner.invoke(app, ["demo", "--source", "snowflake", "--schema", schema,
                                 "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert re.search(rf"Snowflake emulator \(fakesnow\) at http://127\.0\.0\.1:\d+, database "
                     rf"{schema.upper()}", result.output)
    _check(result.output)


def test_demo_on_snowflake_without_the_emulator_names_the_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a runtime-only install (no fakesnow): the demo stops with the extra to install.
    monkeypatch.setitem(sys.modules, "fakesnow.server", None)
    result = runner.invoke(app, ["demo", "--source", "snowflake",
                                 "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "the Snowflake emulator (fakesnow) is not installed" in result.output
    assert "audience-reconciler[snowflake-emulator]" in result.output
