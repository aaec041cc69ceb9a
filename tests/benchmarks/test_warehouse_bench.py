"""The warehouse-planning benchmark on its quick size, so the script cannot rot (no timings)."""
from __future__ import annotations

import re

import pytest

from bench.warehouse import main


def test_the_quick_run_plans_alike_both_ways_and_moves_less_from_the_warehouse(
        postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario: 20,000 members on PostgreSQL, a recorded apply, 1% churn: planIn local and
    # planIn warehouse count the same changes (the script fails otherwise), the warehouse
    # plan reads incrementally (no full-read warning) and moves fewer bytes.
    assert main(["--quick", "--url", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "warning" not in out, out
    last = out.rstrip().splitlines()[-1]
    found = re.fullmatch(r"warehouse: 20000 local [\d.]+ s ([\d.]+) MB moved, "
                         r"warehouse [\d.]+ s ([\d.]+) MB moved", last)
    assert found is not None, last
    assert float(found[2]) < float(found[1]) / 10, last
