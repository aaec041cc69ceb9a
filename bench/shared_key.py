"""Shared-key benchmark: many activations on one Selligent API key under a small budget.

    .venv/bin/python bench/shared_key.py                       # 20 activations, 120 req/min
    .venv/bin/python bench/shared_key.py --activations 5 --per-minute 60 --client-per-minute 90

Selligent counts 2,500 requests a minute per API key, across every integration using it, and
answers a plain-text 429 with `X-RateLimit-Reset` past it (api/selligent.md §8). Here the
sandbox enforces `--per-minute` per key (its 60-s window) and the project declares
`--client-per-minute` (default: the same) as the key's budget with `budgetShare: 1`. One
process plans and applies every activation (the example's VIP segment, each to its own static
segment), so they all share the key's one pacer. A client budget above the server's provokes
429s: they must be waited out (up to a 60-s reset), never fail an activation.

Prints: activations applied / failed, Selligent requests, 429 answers and the total time the
client waited on them, the requests per minute achieved against the budget, and the wall time.

    .venv/bin/python bench/shared_key.py --processes 4      # a matrix: 4 processes, 5 each

With `--processes N` the activations are split over N processes applying at once on one
PostgreSQL state (`--state`, default a fresh schema in the local test database), as a GitHub
Actions matrix would: first with the state's shared request budget (`request_budgets`), then,
as the baseline in the same run, with each process pacing on its own (the budget per process).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import reconciler.destinations.selligent.transport as transport  # noqa: E402
import reconciler.operations.budgets as budgets  # noqa: E402
from reconciler.executing.executor import Outcome  # noqa: E402
from reconciler.manifests.diagnostics import has_errors  # noqa: E402
from reconciler.manifests.loading import load_project  # noqa: E402
from reconciler.operations.applying import execute  # noqa: E402
from reconciler.operations.plans import make_plan  # noqa: E402
from reconciler.planning.planner import Refresh, Workspace  # noqa: E402
from reconciler.sandbox.selligent import (  # noqa: E402
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)

DATA = REPO / "manifests" / "data"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

HEAD = """\
apiVersion: reconciler/v1
kind: Source
metadata: {{name: warehouse}}
spec: {{type: duckdb, files: {{customers: {data}/customers.csv}}}}
---
apiVersion: reconciler/v1
kind: Model
metadata: {{name: customers}}
spec: {{source: warehouse, table: customers}}
---
apiVersion: reconciler/v1
kind: Segment
metadata: {{name: vip}}
spec:
  model: customers
  where: {{all: [{{column: lifetime_value, gte: 1000}}, {{column: email_consent, eq: true}}]}}
---
apiVersion: reconciler/v1
kind: Destination
metadata: {{name: selligent}}
spec:
  type: selligent
  baseUrl: {url}
  organization: SANDBOX
  list: CONTACTS
  credentials: {{apiKey: '${{env:BENCH_KEY}}', apiSecret: '${{env:BENCH_SECRET}}'}}
  limits: {{requestsPerMinute: {budget}, budgetShare: 1}}
"""
ACTIVATION = """\
---
apiVersion: reconciler/v1
kind: Activation
metadata: {{name: vip-{n:02d}}}
spec:
  segment: vip
  destination: selligent
  audienceName: VIP {n:02d}
  matchKey: {{source: customer_id, destination: EXTERNAL_ID}}
  schedule: manual
  warnings: {{minMatchRate: 0}}
"""


class Waits:
    """Wraps the client's sleep to add up what it waited on the server (retries only)."""

    def __init__(self) -> None:
        self.seconds, self.count = 0.0, 0

    def __call__(self, seconds: float) -> None:
        self.seconds += seconds
        self.count += 1
        time.sleep(seconds)


def write_project(folder: Path, url: str, activations: int, client_per_minute: int) -> Path:
    project_file = folder / "project.yaml"
    project_file.write_text(
        HEAD.format(data=DATA, url=url, budget=client_per_minute)
        + "".join(ACTIVATION.format(n=n) for n in range(1, activations + 1)), "utf-8")
    return project_file


def apply_activations(project_file: Path, state: str, names: list[str]) -> tuple[list, Waits]:
    """Plan and apply `names` (all when empty) in this process; the results and client waits."""
    waits = Waits()
    original = transport.Transport.__init__.__kwdefaults__ or {}
    transport.Transport.__init__.__kwdefaults__ = {**original, "sleep": waits}
    try:
        project, problems = load_project(project_file)
        if has_errors(problems):
            raise SystemExit(f"invalid bench project: {problems}")
        workspace = Workspace()
        try:
            planned = make_plan(project, activations=names, refresh=Refresh.NONE, state=state,
                                workspace=workspace, writing=True)
            results = execute(project, planned.plan, workspace, state,
                              allow_mass_removal=True, fail_fast=False,
                              planned_serials=planned.fingerprint.state_serials)
        finally:
            workspace.close()
    finally:
        transport.Transport.__init__.__kwdefaults__ = original
    return results, waits


def busiest_window(times: list[float], seconds: float = 60.0) -> int:
    """The most requests the server received in any `seconds` (its budget's window)."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def start_sandbox(per_minute: int) -> SelligentSandbox:
    """The Selligent sandbox counting `per_minute` requests per key, seeded with the example."""
    return start_selligent_sandbox(SelligentSandboxConfig(
        port=0, data_dir=None, seed_file=DATA / "customers.csv", requests_per_minute=per_minute))


def summary(results: list, waits: Waits) -> dict[str, Any]:
    """What one process applied, and what it waited on the server."""
    return {"applied": sum(r.outcome is Outcome.APPLIED for r in results),
            "failed": [f"{r.activation}: {r.outcome.value} {r.message}"
                       for r in results if r.outcome is not Outcome.APPLIED],
            "waits": waits.count, "waited": waits.seconds}


def report(title: str, outputs: list[dict[str, Any]], entries: list, elapsed: float,
           per_minute: int) -> dict[str, float]:
    """Print the processes' `outputs` (`summary`) against the sandbox's log; the totals."""
    totals = {"applied": sum(o["applied"] for o in outputs),
              "failed": sum(len(o["failed"]) for o in outputs),
              "requests": len(entries), "limited": sum(e.status == 429 for e in entries),
              "waits": sum(o["waits"] for o in outputs),
              "waited": sum(o["waited"] for o in outputs),
              "busiest_minute": busiest_window([e.time for e in entries])}
    rate = len(entries) / elapsed * 60
    print(title)
    print(f"  applied {totals['applied']}, failed or stopped {totals['failed']}")
    for output in outputs:
        for failure in output["failed"]:
            print(f"    {failure}")
    print(f"  Selligent requests {totals['requests']}, 429 answers {totals['limited']}, client "
          f"waits {totals['waits']} totalling {totals['waited']:.1f} s")
    print(f"  {rate:.1f} requests/min over {elapsed:.1f} s ({rate / per_minute:.0%} of the "
          f"server's budget); the busiest 60 s received {totals['busiest_minute']}")
    return totals


def run(activations: int, per_minute: int, client_per_minute: int) -> dict[str, float]:
    """One process, every activation on one key: prints and returns what happened."""
    os.environ.update(BENCH_KEY="sandbox-key", BENCH_SECRET="sandbox-secret")
    sandbox = start_sandbox(per_minute)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-shared-key-") as tmp:
            project_file = write_project(Path(tmp), sandbox.url, activations, client_per_minute)
            started = time.perf_counter()
            results, waits = apply_activations(project_file, str(Path(tmp) / "state.duckdb"),
                                               [])
            elapsed = time.perf_counter() - started
    finally:
        sandbox.stop()
    return report(f"{activations} activations on one key, server budget {per_minute}/min, "
                  f"client budget {client_per_minute}/min", [summary(results, waits)],
                  sandbox.log.entries(), elapsed, per_minute)


def worker(project_file: Path, state: str, names: list[str], shared: bool) -> None:
    """One matrix job: apply `names`; print what happened as one JSON line."""
    os.environ.update(BENCH_KEY="sandbox-key", BENCH_SECRET="sandbox-secret")
    if not shared:  # the baseline: each process paces alone, as before request_budgets
        budgets.open_budget_ledger = lambda location: None  # type: ignore[assignment]
    print(json.dumps(summary(*apply_activations(project_file, state, names))))


def run_matrix(activations: int, processes: int, per_minute: int, client_per_minute: int,
               state: str | None, shared: bool) -> None:
    """`processes` jobs at once on one key and one PostgreSQL state; the sandbox in this one."""
    import psycopg
    from psycopg import sql

    schema = f"bench_shared_key_{uuid.uuid4().hex[:8]}"
    location = state or f"{LOCAL_POSTGRES}?schema={schema}"
    sandbox = start_sandbox(per_minute)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-shared-key-") as tmp:
            project_file = write_project(Path(tmp), sandbox.url, activations, client_per_minute)
            names = [f"vip-{n:02d}" for n in range(1, activations + 1)]
            command = [sys.executable, __file__, "--worker", str(project_file),
                       "--state", location] + ([] if shared else ["--baseline"])
            started = time.perf_counter()
            jobs = [subprocess.Popen(command + names[i::processes], stdout=subprocess.PIPE,
                                     text=True) for i in range(processes)]
            outputs = [json.loads(job.communicate()[0].strip().splitlines()[-1])
                       for job in jobs]
            elapsed = time.perf_counter() - started
    finally:
        sandbox.stop()
        if state is None:
            with psycopg.connect(LOCAL_POSTGRES, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
    how = "one budget shared through the state" if shared else "each process on its own"
    report(f"{activations} activations in {processes} processes on one key ({how}), server "
           f"budget {per_minute}/min, client budget {client_per_minute}/min", outputs,
           sandbox.log.entries(), elapsed, per_minute)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", type=int, default=20)
    parser.add_argument("--per-minute", type=int, default=120, help="The server's budget.")
    parser.add_argument("--client-per-minute", type=int, default=None,
                        help="The budget the manifest declares (default: the server's).")
    parser.add_argument("--processes", type=int, default=1,
                        help="Jobs applying at once on one PostgreSQL state.")
    parser.add_argument("--state", default=None, help="A PostgreSQL state URL (--processes).")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    client = args.client_per_minute or args.per_minute
    if args.worker is not None:
        worker(args.worker, args.state, args.names, shared=not args.baseline)
    elif args.processes > 1:
        for shared in (True, False):
            run_matrix(args.activations, args.processes, args.per_minute, client, args.state,
                       shared)
    else:
        run(args.activations, args.per_minute, client)


if __name__ == "__main__":
    main()
