"""Apply benchmark: ~100k member changes and ~100k attribute updates per destination, against
both sandboxes with added latency and a request budget.

    .venv/bin/python bench/apply.py                      # 100k customers, 20 ms, budgets below
    .venv/bin/python bench/apply.py --customers 20000    # quicker

Prints, per destination: the requests sent vs the minimum possible (changes ÷ max batch), the
throughput vs the budget's ceiling (budget × batch size), and the retries (429/5xx answers).
Everything is written under a temporary directory, removed at the end; the sandboxes run as
`reconciler sandbox` in a process of their own on free 127.0.0.1 ports and stop with the
script.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import signal
import socket
import subprocess
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
    load_ms: float  # the server's mean time to answer one data load (latency included)


def traffic(log: Path, skip: int) -> Traffic:
    """What a sandbox served after its first `skip` requests, from its requests.jsonl."""
    entries = [json.loads(line) for line in log.read_text("utf-8").splitlines()[skip:]]
    kinds: Counter[str] = Counter()
    for entry in entries:
        tail = "/".join(p for p in entry["path"].split("/")[-2:] if not p.isdigit())
        kinds[f"{entry['method']} …/{tail}"] += 1
    retries = sum(1 for e in entries if e["status"] in (429, 500, 502, 503, 504) or e["fault"])
    loads = [e["duration_ms"] for e in entries if e["path"].endswith("/data/load")]
    return Traffic(len(entries), retries, kinds, sum(loads) / len(loads) if loads else 0.0)


def _lines(path: Path) -> int:
    return len(path.read_text("utf-8").splitlines()) if path.exists() else 0


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
                     selligent_rps: float, actito_per_minute: int) -> subprocess.Popen[bytes]:
    """`reconciler sandbox` in its own process, as a user runs it (its own interpreter: the
    client's work and the server's do not share one GIL, as with a real API)."""
    command = [str(Path(sys.executable).parent / "reconciler"), "sandbox",
               "--selligent-port", str(ports[0]), "--actito-port", str(ports[1]),
               "--actito-ftps-port", str(ports[2]), "--actito-sftp-port", str(ports[3]),
               "--data-dir", str(folder / "sandbox"), "--seed-file", str(seed),
               "--latency-ms", str(latency_ms), "--requests-per-second", str(selligent_rps),
               "--actito-calls-per-minute", str(actito_per_minute),
               "--max-rows-per-load", str(MAX_ROWS)]
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


def run(customers: int, latency_ms: float, selligent_rps: float, actito_per_minute: int) -> None:
    os.environ.update(BENCH_SELLIGENT_KEY="sandbox-key", BENCH_SELLIGENT_SECRET="sandbox-secret",
                      BENCH_ACTITO_KEY="sandbox-api-key",
                      BENCH_FTPS_PASSWORD="sandbox-ftp-password")
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        folder = Path(tmp)
        seed = write_seed(folder, customers)
        ports = _free_ports(4)
        process = _start_sandboxes(folder, seed, ports, latency_ms, selligent_rps,
                                   actito_per_minute)
        try:
            (folder / "project.yaml").write_text(PROJECT.format(
                selligent_url=f"http://127.0.0.1:{ports[0]}/Portal/Api",
                actito_url=f"http://127.0.0.1:{ports[1]}", max_rows=MAX_ROWS,
                selligent_rps=selligent_rps, per_minute=actito_per_minute, ftps_port=ports[2],
                ca_file=folder / "sandbox" / "actito" / "ftps-cert.pem"), "utf-8")
            _measure(folder, selligent_rps, actito_per_minute)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _measure(folder: Path, selligent_rps: float, actito_per_minute: int) -> None:
    project = load_valid_project(folder / "project.yaml")
    state = str(folder / "state.duckdb")
    logs = {"selligent": folder / "sandbox" / "selligent" / "requests.jsonl",
            "actito": folder / "sandbox" / "actito" / "requests.jsonl"}
    workspace = Workspace()
    try:
        started = time.perf_counter()
        planned = make_plan(project, activations=[], refresh=False, state=state,
                            workspace=workspace)
        plan = planned.plan
        planned_at = time.perf_counter()
        skip = {name: _lines(path) for name, path in logs.items()}
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
        members = activation.members
        updates = activation.attributes.updates if activation.attributes else 0
        adds = members.adds if members else 0
        seconds = took[activation.activation]
        seen = traffic(logs[destination], skip[destination])
        print(f"\n{activation.activation}: {adds:,} member adds, {updates:,} updates "
              f"in {seconds:.1f} s")
        if destination == "selligent":
            minimum = math.ceil(adds / MAX_ROWS) + math.ceil(updates / MAX_ROWS)
            loads = seen.by_kind.get("POST …/data/load", 0)
            ceiling = selligent_rps * MAX_ROWS
            rows_per_s = (adds + updates) / seconds if seconds else 0.0
            print(f"  data loads {loads} (minimum {minimum}); all requests {seen.requests}, "
                  f"retries {seen.retries}; the sandbox takes {seen.load_ms:,.0f} ms to "
                  f"answer one {MAX_ROWS:,}-row load")
            print(f"  throughput {rows_per_s:,.0f} rows/s = {rows_per_s / ceiling:.0%} of the "
                  f"budget's ceiling {ceiling:,.0f} rows/s ({selligent_rps:g} req/s × "
                  f"{MAX_ROWS:,} rows)")
        else:
            print(f"  requests {seen.requests} (the data needs 1 key file over FTPS and 1 ETL "
                  f"execution + its status polls), retries {seen.retries}; budget "
                  f"{actito_per_minute} calls/min")
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
