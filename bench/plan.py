"""Benchmark `reconciler plan` on synthetic audiences against the scan floor.

    .venv/bin/python -m bench.plan                    # 100k and 1M members
    .venv/bin/python -m bench.plan --sizes 10m        # the acceptance size
    .venv/bin/python -m bench.plan --sizes 100k,1m,10m --runs 3 --keep /tmp/plan-bench

For each size it generates the data once (see `bench/synthetic.py`), then runs, each in a
fresh process, the floor (DuckDB scanning the audience query once), a reference join (the
audience's keys against the snapshot's, one of the hash joins any exact plan makes) and the
real planner, `--runs` times each; it prints the median times, the plan's ratio to the floor
(and the join's), and the plan's peak RSS, and checks the plan's counts against the
generated churn. Everything is written in one temporary
directory, removed at the end unless `--keep DIR` names a directory to keep (and reuse).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import measure_floor, measure_join, measure_plan, run_fresh
from bench.synthetic import generate

TARGET_RATIO = 3.0
TARGET_RSS_MB = 1536.0
_SUFFIXES = {"k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class SizeResult:
    size: int
    floor_seconds: float
    join_seconds: float
    plan_seconds: float
    plan_cpu_seconds: float
    plan_rss_mb: float
    counts: dict[str, int]

    @property
    def ratio(self) -> float:
        return self.plan_seconds / self.floor_seconds

    def row(self) -> str:
        met = self.ratio <= TARGET_RATIO and self.plan_rss_mb < TARGET_RSS_MB
        return (f"{self.size:>12,} {self.floor_seconds:>9.3f} {self.join_seconds:>9.3f} "
                f"{self.join_seconds / self.floor_seconds:>6.1f}x {self.plan_seconds:>9.3f} "
                f"{self.ratio:>6.1f}x {self.plan_cpu_seconds:>9.2f} {self.plan_rss_mb:>9.0f} "
                f"{self.counts['adds']:>8,} {self.counts['removes']:>8,} "
                f"{self.counts['updates']:>8,}  {'yes' if met else 'NO'}")


HEADER = (f"{'members':>12} {'floor s':>9} {'join s':>9} {'ratio':>7} {'plan s':>9} "
          f"{'ratio':>7} {'plan CPU':>9} "
          f"{'RSS MB':>9} "
          f"{'adds':>8} {'removes':>8} {'updates':>8}  target")


def verdict(results: Sequence[SizeResult]) -> str:
    """One line: whether each size met the time ratio and the memory bound."""
    slow = [f"{r.size:,}" for r in results if r.ratio > TARGET_RATIO]
    large = [f"{r.size:,}" for r in results if r.plan_rss_mb >= TARGET_RSS_MB]
    missed = ([f"ratio over {TARGET_RATIO:.0f}x at {', '.join(slow)}"] if slow else []) + (
        [f"RSS over {TARGET_RSS_MB:.0f} MB at {', '.join(large)}"] if large else [])
    return (f"target (plan <= {TARGET_RATIO:.0f}x the floor, peak RSS < {TARGET_RSS_MB:.0f} MB): "
            + ("; ".join(missed) if missed else "met"))


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = _SUFFIXES.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in _SUFFIXES else text
    return int(float(number) * factor)


def bench_size(directory: Path, size: int, runs: int, timeout: float) -> SizeResult:
    """Generate one size (once) and measure its floor and plan `runs` times each."""
    run_fresh(_generate, str(directory), size, timeout=timeout)
    dataset = generate(directory, size)  # already built: reads its description
    floors, joins, plans = [], [], []
    for _ in range(runs):
        floors.append(run_fresh(measure_floor, str(directory), timeout=timeout))
        joins.append(run_fresh(measure_join, str(directory), timeout=timeout))
        plans.append(run_fresh(measure_plan, str(directory), timeout=timeout))
    for plan in plans:
        if plan["counts"] != dataset.expected:
            raise RuntimeError(f"size {size}: the plan counted {plan['counts']}, "
                               f"the generator made {dataset.expected}")
    return SizeResult(
        size=size,
        floor_seconds=statistics.median(f["seconds"] for f in floors),
        join_seconds=statistics.median(j["seconds"] for j in joins),
        plan_seconds=statistics.median(p["seconds"] for p in plans),
        plan_cpu_seconds=statistics.median(p["cpu_seconds"] for p in plans),
        plan_rss_mb=max(p["peak_rss_mb"] for p in plans),
        counts=plans[0]["counts"],
    )


def _generate(directory: str, size: int) -> dict[str, int]:
    return generate(Path(directory), size).expected


def run(sizes: Sequence[int], root: Path, runs: int, timeout: float) -> list[SizeResult]:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}; median of {runs} run(s) per size",
          flush=True)
    print(HEADER, flush=True)
    results = []
    for size in sizes:
        result = bench_size(root / f"size-{size}", size, runs, timeout)
        print(result.row(), flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1m",
                        help="comma-separated audience sizes, e.g. 100k,1m,10m")
    parser.add_argument("--runs", type=int, default=3, help="measurements per size (median)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds one step may take before it is killed")
    parser.add_argument("--keep", type=Path, default=None,
                        help="generate into (and reuse) this directory instead of a temp one")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    root = args.keep or Path(tempfile.mkdtemp(prefix="reconciler-plan-bench-"))
    try:
        results = run(sizes, root, max(1, args.runs), args.timeout)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(verdict(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
