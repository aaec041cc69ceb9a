"""Apply benchmark: ~100k member changes and ~100k attribute updates per destination, against
both sandboxes with added latency and a request budget.

    .venv/bin/python bench/apply.py                      # 100k customers, 20 ms, budgets below
    .venv/bin/python bench/apply.py --customers 20000    # quicker

Prints, per destination: the requests sent per operation vs the minimum possible (changes ÷
max batch for data calls; a read and a create for a new Selligent segment) and the retries
(429/5xx answers, dropped connections). For Selligent, the throughput against the ceiling,
budget × rows per load, three ways, all from the server's own timestamps (its requests.jsonl:
when it read each request's headers, when its answer was ready) but the last:
- data calls: the rows over the span from the first data call's start to the last answer. The
  segment read and create come before it and are not counted; the client's 2% pacing headroom
  and its own work between calls are. Beside it, what a client starting the same calls exactly
  at the budget would get ((calls − 1) / budget + one mean answer): partial last batches keep
  that under 100%. This is the figure the target (>= 90%) applies to.
- all Selligent requests: the same over every request of the activation, segment ones included
  (at 1 req/s, 2 requests before the first data call cost 2 s of budget).
- the activation as the executor timed it (what the user waits for, journal and snapshot
  included).
Everything is written under a temporary directory, removed at the end (`--keep-logs DIR`
copies the request logs out first); the sandboxes run as `reconciler sandbox` in a process of
their own on free 127.0.0.1 ports and stop with the script.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "manifests" / "data"))

from generate import generate  # noqa: E402

sys.path.insert(0, str(REPO))
from bench.traffic import (  # noqa: E402
    Changes,
    by_operation,
    count_lines,
    read_exchanges,
    report_selligent,
)
from reconciler.changes.resources import ResourceType  # noqa: E402
from reconciler.manifests.diagnostics import has_errors  # noqa: E402
from reconciler.manifests.loading import load_project  # noqa: E402
from reconciler.operations.applying import execute  # noqa: E402
from reconciler.operations.plans import make_plan  # noqa: E402
from reconciler.planning.planner import Refresh, Workspace  # noqa: E402

MAX_ROWS = 10_000  # Selligent rows per data load (maxRowsPerLoad's default)

PROJECT = """\
apiVersion: reconciler/v1
kind: Source
metadata: {{name: warehouse}}
spec: {{type: duckdb, files: {{customers: customers.csv}}}}
---
apiVersion: reconciler/v1
kind: Model
metadata: {{name: customers}}
spec: {{source: warehouse, table: customers}}
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
  limits: {{maxRowsPerLoad: {max_rows}, initialRowsPerLoad: {max_rows}, concurrency: {concurrency},
            requestsPerSecond: {selligent_rps}}}
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


def write_seed(folder: Path, customers: int) -> Path:
    rows, _ = generate(random.Random(7), customers)
    path = folder / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _start_sandboxes(folder: Path, seed: Path, ports: list[int], latency_ms: float,
                     selligent_rps: float, actito_per_minute: int,
                     max_rows: int) -> subprocess.Popen[bytes]:
    """`reconciler sandbox` in its own process, as a user runs it (its own interpreter: the
    client's work and the server's do not share one GIL, as with a real API)."""
    command = [str(Path(sys.executable).parent / "reconciler"), "sandbox",
               "--selligent-port", str(ports[0]), "--actito-port", str(ports[1]),
               "--actito-ftps-port", str(ports[2]), "--actito-sftp-port", str(ports[3]),
               "--data-dir", str(folder / "sandbox"), "--seed-file", str(seed),
               "--latency-ms", str(latency_ms), "--requests-per-second", str(selligent_rps),
               "--actito-calls-per-minute", str(actito_per_minute),
               "--max-rows-per-load", str(max_rows)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        if "Press Ctrl-C" in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the sandboxes did not start")


def run(customers: int, latency_ms: float, selligent_rps: float, actito_per_minute: int,
        keep_logs: Path | None = None, max_rows: int = MAX_ROWS, concurrency: int = 4) -> None:
    os.environ.update(BENCH_SELLIGENT_KEY="sandbox-key", BENCH_SELLIGENT_SECRET="sandbox-secret",
                      BENCH_ACTITO_KEY="sandbox-api-key",
                      BENCH_FTPS_PASSWORD="sandbox-ftp-password")
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        folder = Path(tmp)
        seed = write_seed(folder, customers)
        ports = _free_ports(4)
        process = _start_sandboxes(folder, seed, ports, latency_ms, selligent_rps,
                                   actito_per_minute, max_rows)
        try:
            (folder / "project.yaml").write_text(PROJECT.format(
                selligent_url=f"http://127.0.0.1:{ports[0]}/Portal/Api",
                actito_url=f"http://127.0.0.1:{ports[1]}", max_rows=max_rows,
                concurrency=concurrency,
                selligent_rps=selligent_rps, per_minute=actito_per_minute, ftps_port=ports[2],
                ca_file=folder / "sandbox" / "actito" / "ftps-cert.pem"), "utf-8")
            _measure(folder, selligent_rps, actito_per_minute, max_rows)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            if keep_logs is not None:
                for name in ("selligent", "actito"):
                    log = folder / "sandbox" / name / "requests.jsonl"
                    if log.exists():
                        keep_logs.mkdir(parents=True, exist_ok=True)
                        shutil.copy(log, keep_logs / f"{name}-requests.jsonl")


def _measure(folder: Path, selligent_rps: float, actito_per_minute: int,
             max_rows: int) -> None:
    project, problems = load_project(folder / "project.yaml")
    if has_errors(problems):
        raise SystemExit(f"{folder / 'project.yaml'}: invalid manifests: {problems}")
    state = str(folder / "state.duckdb")
    logs = {"selligent": folder / "sandbox" / "selligent" / "requests.jsonl",
            "actito": folder / "sandbox" / "actito" / "requests.jsonl"}
    workspace = Workspace()
    try:
        started = time.perf_counter()
        planned = make_plan(project, activations=[], refresh=Refresh.NONE, state=state,
                            workspace=workspace)
        plan = planned.plan
        planned_at = time.perf_counter()
        skip = {name: count_lines(path) for name, path in logs.items()}
        results = execute(project, plan, workspace, state, allow_mass_removal=True,
                          fail_fast=False, planned_serials=planned.fingerprint.state_serials)
        applied = time.perf_counter()
    finally:
        workspace.close()
    print(f"plan {planned_at - started:.1f} s, apply {applied - planned_at:.1f} s")
    for result in results:
        print(f"  {result.activation}: {result.outcome.value} {result.message}")
    took = {r.activation: r.seconds for r in results}
    for activation in plan.activations:
        destination = activation.destination
        seen = read_exchanges(logs[destination], skip[destination])
        changes = Changes(activation.members.adds if activation.members else 0,
                          activation.members.removes if activation.members else 0,
                          activation.attributes.updates if activation.attributes else 0)
        print(f"\n{activation.activation}: {changes.adds:,} member adds, {changes.removes:,} "
              f"removes, {changes.updates:,} updates; apply {took[activation.activation]:.1f} s "
              "(journal and snapshot included)")
        if destination == "selligent":
            creates = any(r.type is ResourceType.SELLIGENT_SEGMENT for r in activation.resources)
            report_selligent(seen, changes, selligent_rps, max_rows, creates,
                             took[activation.activation])
        else:
            print(f"  requests {len(seen)} (the data needs 1 key file over FTPS and 1 ETL "
                  f"execution + its status polls), retries {sum(e.retried for e in seen)}; "
                  f"budget {actito_per_minute} calls/min")
            for kind, count in by_operation(seen).most_common(6):
                print(f"    {count:5d} {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=105_300,
                        help="synthetic customers (≈5%% unknown at the destinations)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--selligent-rps", type=float, default=10.0)
    parser.add_argument("--actito-per-minute", type=int, default=100)
    parser.add_argument("--rows-per-load", type=int, default=MAX_ROWS,
                        help="Selligent rows per data call (maxRowsPerLoad; the ceiling is "
                             "the budget times this)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="Selligent calls in flight (limits.concurrency)")
    parser.add_argument("--keep-logs", type=Path, metavar="DIR",
                        help="copy the sandboxes' requests.jsonl files there")
    args = parser.parse_args()
    run(args.customers, args.latency_ms, args.selligent_rps, args.actito_per_minute,
        args.keep_logs, args.rows_per_load, args.concurrency)


if __name__ == "__main__":
    main()
