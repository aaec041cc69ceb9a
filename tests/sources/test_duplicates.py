"""Keys on several rows of an audience: held (keep), one row synced (first), or an error."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from reconciler.manifests.models import DuckDBSource, DuplicateKeys, FieldType, ModelSpec
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    DuplicateKeysError,
    ProblemKind,
    materialize_audience,
    materialize_rows,
    open_source,
)
from reconciler.sources.duckdb_source import DuckDBWarehouse

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
# C000002 is on two rows that disagree; C000003 on three, one of them with an unfit score;
# C000004 on two identical rows.
ROWS = """id,email,score
C000001,ann.smith@example.com,10
C000002,bob.new@example.com,7
C000002,bob.old@example.com,7
C000003,carl.b@example.com,abc
C000003,carl.c@example.com,30
C000003,carl.a@example.com,20
C000004,dina.moss@example.com,40
C000004,dina.moss@example.com,40
"""
SCORE = AudienceField("score", "SCORE", FieldType.INTEGER)
MAIL = AudienceField("email", "MAIL")


def _warehouse(tmp_path: Path, rows: str = ROWS) -> DuckDBWarehouse:
    (tmp_path / "people.csv").write_text(rows)
    source = open_source("wh", DuckDBSource(type="duckdb", files={"people": "people.csv"}),
                         tmp_path)
    assert isinstance(source, DuckDBWarehouse)
    return source


def _spec(policy: DuplicateKeys, *fields: AudienceField) -> AudienceSpec:
    return AudienceSpec("people-sync", ModelSpec(source="wh", table="people"), "id",
                        fields or (SCORE, MAIL), duplicate_keys=policy)


def _keys(workspace: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in workspace.execute(f'SELECT member_key FROM "{table}" ORDER BY 1')
            .fetchall()]


def test_keep_leaves_every_row_of_a_duplicated_key_out_and_holds_the_key(
        tmp_path: Path) -> None:
    # Scenario: the default: the three duplicated keys are held (for the diff to keep their
    # members as they are), their 7 rows counted with masked samples, C000001 synced.
    workspace = duckdb.connect()
    with _warehouse(tmp_path) as source:
        report = materialize_audience(source, _spec(DuplicateKeys.KEEP), workspace, "aud",
                                      now=NOW, held="held")
    [duplicates] = [p for p in report.problems if p.kind is ProblemKind.DUPLICATE_KEY]
    assert (duplicates.rows, duplicates.samples) == (7, ("C*****2", "C*****3", "C*****4"))
    assert (report.rows_read, report.valid_rows, report.held_keys) == (8, 1, 3)
    assert _keys(workspace, "aud") == ["C000001"]
    assert _keys(workspace, "held") == ["C000002", "C000003", "C000004"]


def test_keep_with_nothing_but_duplicates_is_no_error(tmp_path: Path) -> None:
    # Scenario: a load doubled every row: nothing is valid, but every member is held, so the
    # activation still plans (to no change) instead of failing or emptying the list.
    workspace = duckdb.connect()
    with _warehouse(tmp_path, "id,score\nA,1\nA,1\nB,2\nB,2\n") as source:
        report = materialize_audience(source, _spec(DuplicateKeys.KEEP, SCORE), workspace,
                                      "aud", now=NOW, held="held")
    assert (report.valid_rows, report.held_keys) == (0, 2)


def test_first_syncs_the_row_whose_values_sort_first(tmp_path: Path) -> None:
    # Scenario: one row per key: C000002 the one with the smaller e-mail (same score),
    # C000003 the valid row with the lowest score (the unfit `abc` row sorts last), C000004
    # either copy.
    workspace = duckdb.connect()
    spec = _spec(DuplicateKeys.FIRST)
    with _warehouse(tmp_path) as source:
        report = materialize_audience(source, spec, workspace, "aud", now=NOW, held="held")
        materialize_rows(source, spec, workspace, "rows", "aud", now=NOW)
    assert workspace.execute("SELECT member_key, SCORE, MAIL FROM rows").fetchall() == [
        ("C000001", 10, "ann.smith@example.com"), ("C000002", 7, "bob.new@example.com"),
        ("C000003", 20, "carl.a@example.com"), ("C000004", 40, "dina.moss@example.com")]
    [left_out] = [p for p in report.problems if p.kind is ProblemKind.DUPLICATE_ROW]
    assert (left_out.rows, left_out.samples) == (4, ("C*****2", "C*****3", "C*****4"))
    assert (report.rows_read, report.valid_rows, report.held_keys) == (8, 4, 0)
    assert not any(p.kind is ProblemKind.INVALID_VALUE for p in report.problems)


def test_first_is_the_same_row_whatever_the_order_in_the_file(tmp_path: Path) -> None:
    # Scenario: the file's rows reversed: the same row of each key is synced.
    lines = ROWS.splitlines()
    reversed_rows = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    synced = []
    for number, rows in enumerate((ROWS, reversed_rows)):
        workspace, folder = duckdb.connect(), tmp_path / str(number)
        folder.mkdir()
        with _warehouse(folder, rows) as source:
            spec = _spec(DuplicateKeys.FIRST)
            materialize_audience(source, spec, workspace, "aud", now=NOW)
            synced.append(workspace.execute(
                "SELECT member_key, attributes_hash FROM aud ORDER BY 1").fetchall())
    assert synced[0] == synced[1]


def test_fail_names_the_activation_with_counts_and_masked_keys(tmp_path: Path) -> None:
    # Scenario: duplicateKeys fail: the audience is not materialized, the error says how many
    # keys and rows, with masked samples only.
    with _warehouse(tmp_path) as source, pytest.raises(DuplicateKeysError) as caught:
        materialize_audience(source, _spec(DuplicateKeys.FAIL), duckdb.connect(), "aud",
                             now=NOW)
    message = str(caught.value)
    assert message.startswith("activation 'people-sync': 3 match keys (id) are on more than "
                              "one row of the audience (7 rows; e.g. C*****2, C*****3, C*****4)")
    assert "duplicateKeys is fail" in message and "C000002" not in message


def test_fail_without_duplicates_plans_normally(tmp_path: Path) -> None:
    # Scenario: the same policy on a clean audience changes nothing.
    with _warehouse(tmp_path, "id,score\nA,1\nB,2\n") as source:
        report = materialize_audience(source, _spec(DuplicateKeys.FAIL, SCORE),
                                      duckdb.connect(), "aud", now=NOW)
    assert (report.valid_rows, report.problems) == (2, ())
