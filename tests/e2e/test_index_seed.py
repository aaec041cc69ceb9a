"""Seeding a sandbox from a Parquet file (issue 14: a large destination seeded fast, without
one API call per contact)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from reconciler.sandbox.seed import SeedFileError, check_seed_file, read_seed_customers
from reconciler.sandbox.selligent import SelligentSandboxConfig, start_selligent_sandbox
from tests.e2e.conftest import SEED


def test_a_parquet_seed_file_seeds_what_its_csv_does(tmp_path: Path) -> None:
    # Scenario: the example customers saved as Parquet (typed columns: numbers, booleans,
    # dates) give the same customers as the CSV, and a Selligent sandbox seeded from it holds
    # the same contacts.
    parquet = tmp_path / "customers.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv_auto('{SEED}')) TO '{parquet}' (FORMAT parquet)")
    check_seed_file(parquet)
    from_csv = {row["customer_id"]: row for row in read_seed_customers(SEED)}
    from_parquet = {row["customer_id"]: row for row in read_seed_customers(parquet)}
    assert from_parquet.keys() == from_csv.keys()
    first = next(iter(from_csv))
    assert from_parquet[first]["email"] == from_csv[first]["email"]
    assert float(from_parquet[first]["lifetime_value"]) == float(from_csv[first]["lifetime_value"])
    sandbox = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                             seed_file=parquet))
    try:
        with sandbox.store.lock:
            table = sandbox.store.organization("SANDBOX").list("CONTACTS")  # type: ignore[union-attr]
            assert len(table.records) == len(from_csv)
    finally:
        sandbox.stop()


def test_a_parquet_seed_file_without_the_key_column_is_refused(tmp_path: Path) -> None:
    # Scenario: a Parquet file without customer_id is refused before anything starts.
    parquet = tmp_path / "wrong.parquet"
    duckdb.sql(f"COPY (SELECT 'a' AS id) TO '{parquet}' (FORMAT parquet)")
    with pytest.raises(SeedFileError, match="no column 'customer_id'"):
        check_seed_file(parquet)
