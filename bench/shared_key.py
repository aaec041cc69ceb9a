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
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import reconciler.destinations.selligent.transport as transport  # noqa: E402
from reconciler.executing.executor import Outcome  # noqa: E402
from reconciler.manifests.diagnostics import has_errors  # noqa: E402
from reconciler.manifests.loading import load_project  # noqa: E402
from reconciler.operations.applying import execute  # noqa: E402
from reconciler.operations.plans import make_plan  # noqa: E402
from reconciler.planning.planner import Workspace  # noqa: E402
from reconciler.sandbox.selligent import (  # noqa: E402
    SelligentSandboxConfig,
    start_selligent_sandbox,
)

DATA = REPO / "manifests" / "data"

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


def run(activations: int, per_minute: int, client_per_minute: int) -> None:
    os.environ.update(BENCH_KEY="sandbox-key", BENCH_SECRET="sandbox-secret")
    sandbox = start_selligent_sandbox(SelligentSandboxConfig(
        port=0, data_dir=None, seed_file=DATA / "customers.csv", requests_per_minute=per_minute))
    waits = Waits()
    original = transport.Transport.__init__.__kwdefaults__ or {}
    transport.Transport.__init__.__kwdefaults__ = {**original, "sleep": waits}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-shared-key-") as tmp:
            project_file = Path(tmp) / "project.yaml"
            project_file.write_text(
                HEAD.format(data=DATA, url=sandbox.url, budget=client_per_minute)
                + "".join(ACTIVATION.format(n=n) for n in range(1, activations + 1)), "utf-8")
            project, problems = load_project(project_file)
            if has_errors(problems):
                raise SystemExit(f"invalid bench project: {problems}")
            state = str(Path(tmp) / "state.duckdb")
            workspace = Workspace()
            started = time.perf_counter()
            try:
                planned = make_plan(project, activations=[], refresh=False, state=state,
                                    workspace=workspace)
                results = execute(project, planned.plan, workspace, state,
                                  allow_mass_removal=True, fail_fast=False,
                                  planned_serials=planned.fingerprint.state_serials)
            finally:
                workspace.close()
            elapsed = time.perf_counter() - started
    finally:
        transport.Transport.__init__.__kwdefaults__ = original
        sandbox.stop()
    entries = sandbox.log.entries()
    limited = sum(e.status == 429 for e in entries)
    applied = sum(r.outcome is Outcome.APPLIED for r in results)
    failed = [r for r in results if r.outcome is not Outcome.APPLIED]
    rate = len(entries) / elapsed * 60
    print(f"{activations} activations on one key, server budget {per_minute}/min, client "
          f"budget {client_per_minute}/min")
    print(f"  applied {applied}, failed or stopped {len(failed)}")
    for result in failed:
        print(f"    {result.activation}: {result.outcome.value} {result.message}")
    print(f"  Selligent requests {len(entries)}, 429 answers {limited}, client waits "
          f"{waits.count} totalling {waits.seconds:.1f} s")
    print(f"  {rate:.1f} requests/min over {elapsed:.1f} s ({rate / per_minute:.0%} of the "
          "server's budget)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", type=int, default=20)
    parser.add_argument("--per-minute", type=int, default=120, help="The server's budget.")
    parser.add_argument("--client-per-minute", type=int, default=None,
                        help="The budget the manifest declares (default: the server's).")
    args = parser.parse_args()
    run(args.activations, args.per_minute, args.client_per_minute or args.per_minute)


if __name__ == "__main__":
    main()
