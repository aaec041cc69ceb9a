"""Bad-data problems of an audience: their kinds, counts and masked samples.

Owns the report a materialized audience comes with, and the one aggregate query that counts
every problem at once over the staged rows. Samples go through `reconciler.masking` before
they leave this module: no raw key or value is ever returned.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import duckdb

from reconciler.masking import mask_value
from reconciler.sources.audience import KEY_COLUMN
from reconciler.sources.dialects import DUCKDB


class ProblemKind(enum.StrEnum):
    NULL_KEY = "null key"
    DUPLICATE_KEY = "duplicate key"
    """Every row of the key is left out; with `duplicateKeys: keep` its member is held."""
    DUPLICATE_ROW = "duplicate key (first row kept)"
    """`duplicateKeys: first`: the key's other rows are left out."""
    INVALID_VALUE = "invalid value"
    BAD_SOURCE_ROW = "bad source row"
    """A row of a source's file table whose value does not fit its column's declared type:
    it never reaches the model (see `filetables.py`)."""


@dataclass(frozen=True)
class DataProblem:
    kind: ProblemKind
    rows: int
    samples: tuple[str, ...] = ()
    """Masked examples, e.g. `C*****1` or `C*****1: a***c`."""
    field: str | None = None
    """The destination field, for INVALID_VALUE; `table.column: not a TYPE`, for
    BAD_SOURCE_ROW."""

    def describe(self) -> str:
        what = f"an invalid {self.field} value" if self.field else f"a {self.kind}"
        if self.kind is ProblemKind.BAD_SOURCE_ROW:
            what = f"a value unfit for its declared type ({self.field})"
        examples = f" (e.g. {', '.join(self.samples)})" if self.samples else ""
        return f"{self.rows} rows with {what}{examples}"


@dataclass(frozen=True)
class AudienceReport:
    activation: str
    table: str
    rows_read: int
    valid_rows: int
    problems: tuple[DataProblem, ...]
    held_duplicate_keys: int = 0
    """Keys on several rows whose members stay as they are (`duplicateKeys: keep`)."""
    held_bad_keys: int = 0
    """Keys of bad source rows (left out by their file's declared types) whose members stay
    as they are; their other rows, if any, are not counted as read."""

    @property
    def held_keys(self) -> int:
        return self.held_duplicate_keys + self.held_bad_keys

    @property
    def rejected_rows(self) -> int:
        return self.rows_read - self.valid_rows


@dataclass(frozen=True)
class Check:
    kind: ProblemKind
    field: str | None
    condition: str
    """DuckDB SQL, true for a row with this problem."""
    sample_value: str | None
    """The column shown beside the key in samples; None: no samples (e.g. NULL keys)."""


def count_problems(
    into: duckdb.DuckDBPyConnection,
    activation: str,
    table: str,
    staged: str,
    checks: list[Check],
    samples: int,
) -> AudienceReport:
    """Count rows, valid rows and each check's rows in one scan; sample the failing ones."""
    counts = ", ".join(f"count(*) FILTER (WHERE {c.condition})" for c in checks)
    invalid = " OR ".join(f"({c.condition})" for c in checks)
    row = into.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {invalid}), {counts} "
        f"FROM {DUCKDB.quote(staged)}"
    ).fetchone()
    assert row is not None
    total, rejected, *bad = row
    problems = tuple(
        DataProblem(check.kind, rows, _samples(into, staged, check, samples), check.field)
        for check, rows in zip(checks, bad, strict=True)
        if rows
    )
    return AudienceReport(activation, table, total, total - rejected, problems)


def _samples(
    into: duckdb.DuckDBPyConnection, staged: str, check: Check, limit: int
) -> tuple[str, ...]:
    if check.sample_value is None or limit <= 0:
        return ()
    rows = into.execute(
        f"SELECT DISTINCT {DUCKDB.quote(KEY_COLUMN)}, CAST({check.sample_value} AS VARCHAR) "
        f"FROM {DUCKDB.quote(staged)} WHERE {check.condition} ORDER BY 1 LIMIT {int(limit)}"
    ).fetchall()
    if check.field is None:
        return tuple(mask_value(key) for key, _ in rows)
    return tuple(f"{mask_value(key)}: {mask_value(value)}" for key, value in rows)
