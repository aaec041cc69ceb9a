"""Apply benchmark: ~100k member changes and ~100k attribute updates per destination, against
both sandboxes with added latency and a request budget.

    .venv/bin/python bench/apply.py                      # 100k customers, 20 ms, budgets below
    .venv/bin/python bench/apply.py --customers 20000    # quicker

Prints, per destination: the requests sent vs the minimum possible (changes ÷ max batch), the
throughput vs the budget's ceiling (budget × batch size), and the retries (429/5xx answers).
Everything is written under a temporary directory, removed at the end; the sandboxes listen on
free 127.0.0.1 ports and stop with the script.
"""
from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "manifests" / "data"))

from generate import generate  # noqa: E402

from reconciler.cli.apply import execute  # noqa: E402
from reconciler.cli.plan import load_valid_project, make_plan  # noqa: E402
from reconciler.planning.planner import Workspace  # noqa: E402
from reconciler.sandbox.actito import ActitoSandboxConfig, start_actito_sandbox  # noqa: E402
from reconciler.sandbox.http import LogEntry  # noqa: E402
from reconciler.sandbox.selligent import (  # noqa: E402
    SelligentSandboxConfig,
    start_selligent_sandbox,
)

MAX_ROWS = 10_000  # Selligent rows per data load (the sandbox's documented default)

PROJECT = """\
apiVersion: reconciler/v1
kind: Source
metadata: {{name: warehouse}}
spec: {{type: duckdb, files: {{customers: customers.csv}}}}
---
apiVersion: reconciler/v1
kind: Model
metadata: {{name: customers}}
spec: {{source: warehouse, table: customers, primaryKey: customer_id}}
---
apiVersion: reconciler/v1
kind: Segment
metadata: {{name: everyone}}
spec: {{model: customers, where: {{column: customer_id, startsWith: C}}}}
---
apiVersion: reconciler/v1
kind: Destination
metadata: {{name: selligent}}
spec:
  type: selligent
  baseUrl: {selligent_url}
  organization: SANDBOX
  list: CONTACTS
  credentials:
    apiKey: '${{env:BENCH_SELLIGENT_KEY}}'
    apiSecret: '${{env:BENCH_SELLIGENT_SECRET}}'
  limits: {{maxRowsPerLoad: {max_rows}, concurrency: 4, requestsPerSecond: {selligent_rps}}}
---
apiVersion: reconciler/v1
kind: Destination
metadata: {{name: actito}}
spec:
  type: actito
  baseUrl: {actito_url}
  entity: sandbox
  profileTable: Profiles
  uniqueAttributes: [customerId]
  credentials: {{apiKey: '${{env:BENCH_ACTITO_KEY}}'}}
  limits: {{requestsPerMinute: {per_minute}}}
  fileTransfer:
    protocol: ftps
    host: 127.0.0.1
    port: {ftps_port}
    username: sandbox
    password: '${{env:BENCH_FTPS_PASSWORD}}'
    caFile: {ca_file}
---
apiVersion: reconciler/v1
kind: Activation
metadata: {{name: bench-selligent}}
spec:
  segment: everyone
  destination: selligent
  audienceName: Bench audience
  matchKey: {{source: customer_id, destination: EXTERNAL_ID}}
  fields: [{{source: last_name, destination: NAME}}]
  warnings: {{maxRemovalRatio: 1.0}}
---
apiVersion: reconciler/v1
kind: Activation
metadata: {{name: bench-actito}}
spec:
  segment: everyone
  destination: actito
  audienceName: Bench audience
  matchKey: {{source: customer_id, destination: customerId}}
  fields: [{{source: last_name, destination: lastName}}]
"""


@dataclass(frozen=True)
class Traffic:
    requests: int
    retries: int  # answers that made the client try again (429, 5xx, dropped)
    by_kind: Counter[str]


def traffic(entries: list[LogEntry]) -> Traffic:
    kinds: Counter[str] = Counter()
    for entry in entries:
        tail = "/".join(p for p in entry.path.split("/")[-2:] if not p.isdigit())
        kinds[f"{entry.method} …/{tail}"] += 1
    retries = sum(1 for e in entries if e.status in (429, 500, 502, 503, 504) or e.fault)
    return Traffic(len(entries), retries, kinds)


def write_seed(folder: Path, customers: int) -> Path:
    rows, _ = generate(random.Random(7), customers)
    path = folder / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(customers: int, latency_ms: float, selligent_rps: float, actito_per_minute: int) -> None:
    import os

    os.environ.update(BENCH_SELLIGENT_KEY="sandbox-key", BENCH_SELLIGENT_SECRET="sandbox-secret",
                      BENCH_ACTITO_KEY="sandbox-api-key",
                      BENCH_FTPS_PASSWORD="sandbox-ftp-password")
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        folder = Path(tmp)
        seed = write_seed(folder, customers)
        selligent_config = SelligentSandboxConfig(port=0, data_dir=None, seed_file=seed,
                                                  max_rows_per_load=MAX_ROWS)
        selligent_config.faults.latency_ms = latency_ms
        selligent_config.faults.requests_per_second = selligent_rps
        selligent = start_selligent_sandbox(selligent_config)
        actito = start_actito_sandbox(ActitoSandboxConfig(
            port=0, ftps_port=0, sftp_port=0, data_dir=folder / "actito", seed_file=seed,
            latency_ms=latency_ms, calls_per_minute=actito_per_minute, etl_delay_seconds=0.5,
            sync_poll_seconds=0.5, persist=False))
        try:
            (folder / "project.yaml").write_text(PROJECT.format(
                selligent_url=selligent.url, actito_url=actito.url, max_rows=MAX_ROWS,
                selligent_rps=selligent_rps,
                per_minute=actito_per_minute, ftps_port=actito.ftps.port,
                ca_file=actito.ftps.ca_file), "utf-8")
            _measure(folder, selligent, actito, selligent_rps, actito_per_minute)
        finally:
            selligent.stop()
            actito.stop()


def _measure(folder: Path, selligent: object, actito: object, selligent_rps: float,
             actito_per_minute: int) -> None:
    project = load_valid_project(folder / "project.yaml")
    state = str(folder / "state.duckdb")
    workspace = Workspace()
    try:
        started = time.perf_counter()
        plan = make_plan(project, activations=[], refresh=False, state=state,
                         workspace=workspace).plan
        planned = time.perf_counter()
        for sandbox in (selligent, actito):
            sandbox.log.clear()  # type: ignore[attr-defined]
        results = execute(project, plan, workspace, state, allow_mass_removal=True,
                          fail_fast=False)
        applied = time.perf_counter()
    finally:
        workspace.close()
    print(f"plan {planned - started:.1f} s, apply {applied - planned:.1f} s")
    for result in results:
        print(f"  {result.activation}: {result.outcome.value} {result.message}")
    took = {r.activation: r.seconds for r in results}
    for planned_activation, sandbox, ceiling_per_s in (
        (plan.activations[1], selligent, selligent_rps * MAX_ROWS),
        (plan.activations[0], actito, None),
    ):
        seconds = took[planned_activation.activation]
        members = planned_activation.members
        updates = planned_activation.attributes.updates if planned_activation.attributes else 0
        adds = members.adds if members else 0
        seen = traffic(sandbox.log.entries())  # type: ignore[attr-defined]
        print(f"\n{planned_activation.activation}: {adds:,} member adds, {updates:,} updates "
              f"in {seconds:.1f} s")
        if ceiling_per_s is not None:
            minimum = math.ceil(adds / MAX_ROWS) + math.ceil(updates / MAX_ROWS)
            rows_per_s = (adds + updates) / seconds
            print(f"  requests {seen.requests} (minimum for the data {minimum}), "
                  f"retries {seen.retries}")
            print(f"  throughput {rows_per_s:,.0f} rows/s; budget ceiling "
                  f"{ceiling_per_s:,.0f} rows/s ({selligent_rps:g} req/s × {MAX_ROWS:,} rows)")
        else:
            print(f"  requests {seen.requests} (minimum: 1 file drop over FTPS, "
                  f"1 ETL execution + its status polls), retries {seen.retries}; "
                  f"budget {actito_per_minute} calls/min")
        for kind, count in seen.by_kind.most_common(6):
            print(f"    {count:5d} {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=105_300,
                        help="synthetic customers (≈5%% unknown at the destinations)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--selligent-rps", type=float, default=10.0)
    parser.add_argument("--actito-per-minute", type=int, default=100)
    args = parser.parse_args()
    run(args.customers, args.latency_ms, args.selligent_rps, args.actito_per_minute)


if __name__ == "__main__":
    main()
