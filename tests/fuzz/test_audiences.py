"""Generated hostile warehouse rows through a source into the planner's audience
materialization: bad rows counted, duplicates settled per `duplicateKeys`, never a crash.

Rows come from tests/fuzz/warehouse_rows.py (8 to 20 a case, ≥ 640 in all): in a DuckDB database
table, where the rows read are known exactly, and in a CSV file (quoted by Python's csv
module), read with or without declared column types. `materialize_audience` runs as the
planner runs it (with a `held` table), then `materialize_rows` reads the valid rows again,
as a plan that sends them does.
"""
from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from reconciler.errors import ReconcilerError
from reconciler.manifests.models import DuckDBSource, DuplicateKeys, FieldType, ModelSpec
from reconciler.sources import (
    AudienceField,
    AudienceReport,
    AudienceSpec,
    DuplicateKeysError,
    NoValidRowsError,
    ProblemKind,
    materialize_audience,
    materialize_rows,
    open_source,
)
from reconciler.sources.base import Source
from reconciler.sources.duckdb_source import DuckDBWarehouse
from tests.fuzz.limits import fuzz_settings, time_box
from tests.fuzz.warehouse_rows import COLUMNS, rows

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
MODEL = ModelSpec(source="wh", table="people")
FUZZ = fuzz_settings(max_examples=40)
POLICIES = st.sampled_from(list(DuplicateKeys))
MAIL_LENGTHS = st.sampled_from([None, 50])


def _spec(policy: DuplicateKeys, mail_length: int | None) -> AudienceSpec:
    fields = (AudienceField("email", "MAIL", FieldType.STRING, mail_length),
              AudienceField("score", "SCORE", FieldType.INTEGER),
              AudienceField("born", "BORN", FieldType.DATE),
              AudienceField("vip", "VIP", FieldType.BOOLEAN))
    return AudienceSpec("fuzz", MODEL, "id", fields, duplicate_keys=policy)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-audiences-") as name:
        yield Path(name)


def materialize(source: Source, spec: AudienceSpec) -> AudienceReport | ReconcilerError:
    """The audience as the planner materializes it, checked; or the error refusing it."""
    workspace = duckdb.connect()
    with time_box():
        try:
            report = materialize_audience(source, spec, workspace, "audience", now=NOW,
                                          held="held")
        except (DuplicateKeysError, NoValidRowsError) as exc:
            event(f"refused: {type(exc).__name__}")
            return exc
        check_audience(source, spec, workspace, report)
    event("audience: " + ("some valid rows" if report.valid_rows else "no valid rows"))
    return report


def check_audience(source: Source, spec: AudienceSpec, workspace: duckdb.DuckDBPyConnection,
                   report: AudienceReport) -> None:
    """Unique, non-blank keys, as many as the valid rows, each readable again; masked report."""
    keys = [row[0] for row in workspace.execute("SELECT member_key FROM audience").fetchall()]
    assert len(keys) == len(set(keys)) == report.valid_rows
    assert all(key is not None and key.strip(" ") for key in keys)
    assert 0 <= report.valid_rows <= report.rows_read
    for problem in report.problems:
        assert problem.rows > 0 and len(problem.describe()) < 2_000  # samples are masked
    materialize_rows(source, spec, workspace, "rows", "audience", now=NOW)
    sent = workspace.execute("SELECT count(*), count(DISTINCT member_key) FROM rows").fetchall()
    assert sent == [(report.valid_rows, report.valid_rows)]


def _write_database(path: Path, found: list[dict[str, Any]]) -> None:
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE people (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
        conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?)",
                         [[row[c] for c in COLUMNS] for row in found])


def _problem_rows(report: AudienceReport, kind: ProblemKind) -> int:
    return sum(p.rows for p in report.problems if p.kind is kind)


@FUZZ
@given(found=rows(), policy=POLICIES, mail_length=MAIL_LENGTHS)
def test_rows_of_a_database_table_are_counted_and_settled(
        folder: Path, found: list[dict[str, Any]], policy: DuplicateKeys,
        mail_length: int | None) -> None:
    # Scenario: NULL, blank and duplicated keys, unfit values, 1 MB strings, newlines, quotes,
    # emoji and NUL in a DuckDB table: every row is read, each problem counted as its policy
    # says, and the valid rows can be read again.
    _write_database(folder / "warehouse.duckdb", found)
    spec = _spec(policy, mail_length)
    keys = [row["id"] for row in found]
    counts = Counter(k for k in keys if k is not None and k.strip())
    duplicated = {k: n for k, n in counts.items() if n > 1}
    # A key of tabs or line breaks only: blank to Python, not to DuckDB's trim (spaces).
    unsure = any(k is not None and not k.strip() and k.strip(" ") for k in keys)
    with DuckDBWarehouse("wh", database=folder / "warehouse.duckdb") as source:
        report = materialize(source, spec)
    if isinstance(report, DuplicateKeysError):
        assert policy is DuplicateKeys.FAIL and (duplicated or unsure)
        return
    if isinstance(report, ReconcilerError):  # nothing valid: possible with ≥ 5 hostile rows
        assert isinstance(report, NoValidRowsError) and str(report)
        return
    assert report.rows_read == len(found)
    if unsure:
        return
    assert not (policy is DuplicateKeys.FAIL and duplicated)
    blank = sum(k is None or not k.strip() for k in keys)
    assert _problem_rows(report, ProblemKind.NULL_KEY) == blank
    if policy is DuplicateKeys.KEEP:
        assert report.held_duplicate_keys == len(duplicated)
        assert _problem_rows(report, ProblemKind.DUPLICATE_KEY) == sum(duplicated.values())
    if policy is DuplicateKeys.FIRST:
        assert _problem_rows(report, ProblemKind.DUPLICATE_ROW) == sum(
            n - 1 for n in duplicated.values())


@FUZZ
@given(found=rows(), policy=POLICIES, mail_length=MAIL_LENGTHS, declared=st.booleans())
def test_rows_of_a_csv_file_are_counted_and_settled(
        folder: Path, found: list[dict[str, Any]], policy: DuplicateKeys,
        mail_length: int | None, declared: bool) -> None:
    # Scenario: the same hostile rows in a CSV file, its columns typed by the sniffer or
    # declared in the Source: a located user error or a checked audience, never a crash.
    file = folder / "people.csv"
    with file.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, COLUMNS)
        writer.writeheader()
        writer.writerows(found)
    columns = {"score": "integer", "born": "date", "vip": "boolean"} if declared else None
    entry: Any = {"path": file.name, "columns": columns} if columns else file.name
    try:
        source = open_source("wh", DuckDBSource(type="duckdb", files={"people": entry}), folder)
    except ReconcilerError as exc:  # a file DuckDB cannot read is the user's to fix
        assert "people" in str(exc)
        event(f"csv refused: {type(exc).__name__}")
        return
    with source:
        report = materialize(source, _spec(policy, mail_length))
    if isinstance(report, AudienceReport):  # bad source rows never reach the audience
        assert report.rows_read <= len(found)
        assert report.held_bad_keys == 0 or declared
