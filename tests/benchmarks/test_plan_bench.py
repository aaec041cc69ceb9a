"""The plan benchmark's machinery on a tiny audience, so the script cannot rot (no timings)."""
from __future__ import annotations

from pathlib import Path

from bench.measure import measure_floor, measure_join, measure_plan, run_fresh
from bench.plan import main, parse_size
from bench.synthetic import generate

SIZE = 2_000


def test_the_generated_churn_is_what_the_real_planner_finds(tmp_path: Path) -> None:
    # Scenario: 2,000 members with 1% churn; the planner's counts equal the generator's.
    dataset = generate(tmp_path / "data", SIZE)
    assert dataset.expected["desired"] == SIZE
    assert 0 < dataset.expected["adds"] < dataset.expected["updates"]
    assert dataset.expected["removes"] > 0
    plan = measure_plan(str(dataset.directory))
    assert plan["counts"] == dataset.expected
    floor = measure_floor(str(dataset.directory))
    assert floor["rows"] == SIZE
    assert measure_join(str(dataset.directory))["rows"] == SIZE
    assert plan["peak_rss_mb"] > 0
    assert generate(tmp_path / "data", SIZE) == dataset  # generated once, then reused


def test_a_measurement_runs_in_a_fresh_process(tmp_path: Path) -> None:
    # Scenario: the floor runs in a spawned child and reports back through the pipe.
    generate(tmp_path, SIZE)
    assert run_fresh(measure_floor, str(tmp_path), timeout=60)["rows"] == SIZE


def test_the_script_prints_a_row_per_size_and_keeps_its_data_where_told(
        tmp_path: Path, capsys: object) -> None:
    # Scenario: the command line on a tiny size keeps its data only where --keep says.
    assert main(["--sizes", "2k", "--runs", "1", "--keep", str(tmp_path / "keep")]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "2,000" in out and "target" in out
    assert (tmp_path / "keep" / f"size-{SIZE}" / "dataset.json").is_file()


def test_sizes_are_read_with_suffixes() -> None:
    # Scenario: 100k, 1m and 10M spell the benchmark's sizes.
    assert [parse_size(s) for s in ("100k", "1m", "10M", "2000")] == [
        100_000, 1_000_000, 10_000_000, 2_000]
