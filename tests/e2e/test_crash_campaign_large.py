"""The crash campaign at scale (issue 17): a 50,000-row change on both destinations, its
apply killed with SIGKILL at 19 points in turn and once cut off by a sandbox restart, and one
apply after that, checked against what the destinations hold.

tests/e2e/test_crash_campaign.py kills the example's small apply at 26 points, each from a
fresh start. Here the audience is 57,000 generated customers (manifests/data/generate.py with
another seed): the first apply sends 29,246 members and 20,064 profile updates (49,310 rows) in
1,000-row Selligent loads (one at a time, so a link's nth load is the nth it sends), two Actito
key files and an ETL execution. The campaign is a chain:
each link is a new `apply`, which plans against what the destinations hold after the previous
kill, and is killed in turn at its point, chosen by step (a held request or FTPS command) or by
byte offset (the sandbox holds an HTTP body or an FTPS upload once that many bytes arrived; the
client may still be sending it or may have sent it all). One link stops the Selligent sandbox
while a load is held (its connection closed with no answer), lets the apply fail against the
closed port, and starts the sandbox again from its data directory. Then one `apply` must
converge: the refreshed plan is empty (Selligent's mapped values included), every segment and
list holds exactly the audience (none lost, none extra, none twice), and every Actito churner
has the model's churnScore. A second chain does the same while a narrower audience removes
members.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from reconciler.cli import app
from reconciler.sandbox.actito import ActitoSandboxConfig, start_actito_sandbox
from reconciler.sandbox.project import copy_project_for
from reconciler.sandbox.selligent import SelligentSandboxConfig, start_selligent_sandbox
from tests.e2e.conftest import (
    NOW,
    REPO,
    UNPACED_CALLS_PER_MINUTE,
    Stack,
    StageClock,
    printed,
    set_actito_limit,
    unpace_selligent,
)
from tests.e2e.crashing import (
    LIST_LOAD,
    SEGMENT_LOAD,
    KillPoint,
    apply_killed,
    check,
    hold,
    matched,
    narrower,
    release,
    rows_per_load,
    runner,
    start_apply,
    wait_for,
)

pytestmark = pytest.mark.slow
CUSTOMERS = 57_000
TRIGGER = r"/etls/[^/]+/trigger-execution$"
KiB = 1024

CHAIN = [
    KillPoint("plan: Selligent's contact index, page 20", "selligent", "POST",
              r"/CONTACTS/data/search$", 20),
    KillPoint("plan: Actito's profile export download", "actito-ftps", "RETR", "", 1),
    KillPoint("Actito: churn key file, 8 KiB into its upload", "actito-ftps", "STOR", "", 1,
              offset=8 * KiB),
    KillPoint("Actito: churn key file's rename", "actito-ftps", "RNTO", "", 1),
    KillPoint("Actito: the ETL trigger, 16 KiB into its body", "actito", "POST", TRIGGER, 1,
              offset=16 * KiB),
    KillPoint("Actito: inside the ETL wait (its first status read)", "actito", "GET",
              r"/etl-executions/[^/]+$", 1),
    KillPoint("Selligent: creating Churn_risk", "selligent", "POST", r"/segments/static$", 1),
    KillPoint("Selligent: member load 1, 8 KiB into its body", "selligent", "POST",
              SEGMENT_LOAD, 1, offset=8 * KiB),
    KillPoint("Selligent: member load 2", "selligent", "POST", SEGMENT_LOAD, 2),
    KillPoint("Selligent: profile load 1, 16 KiB into its body", "selligent", "POST",
              LIST_LOAD, 1, offset=16 * KiB),
    KillPoint("Selligent: profile load 2", "selligent", "POST", LIST_LOAD, 2),
    KillPoint("Actito: sms key file, 16 KiB into its upload", "actito-ftps", "STOR", "", 1,
              offset=16 * KiB),
    KillPoint("Actito: sms key file's rename", "actito-ftps", "RNTO", "", 1),
    KillPoint("Selligent: creating the LTV field", "selligent", "POST", r"/CONTACTS/fields$", 1),
    KillPoint("Selligent: creating VIP_customers", "selligent", "POST", r"/segments/static$", 1),
    KillPoint("Selligent: VIP member load 2, 4 KiB into its body", "selligent", "POST",
              SEGMENT_LOAD, 2, offset=4 * KiB),
]
RESTART = KillPoint("Selligent restarted: VIP profile load 1 held", "selligent", "POST",
                    LIST_LOAD, 1)
REMOVALS = [
    KillPoint("removals: Actito's churn key file, 4 KiB into its upload", "actito-ftps",
              "STOR", "", 1, removals=True, offset=4 * KiB),
    KillPoint("removals: Selligent's removal call 1", "selligent", "DELETE",
              r"/segments/[^/]+/data$", 1, removals=True),
    KillPoint("removals: Selligent's removal call 3", "selligent", "DELETE",
              r"/segments/[^/]+/data$", 3, removals=True),
]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", REPO / "manifests/data/generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Both sandboxes seeded with 57,000 generated customers (Selligent's kept in a data
    directory, so it can restart), the example project reading the same data, in 1,000-row
    loads one at a time, and a DuckDB state."""
    for name in ("SELLIGENT_API_KEY", "SELLIGENT_API_SECRET", "ACTITO_API_KEY",
                 "ACTITO_FTPS_PASSWORD", "RECONCILER_STATE_URL", "RECONCILER_NOW"):
        monkeypatch.delenv(name, raising=False)
    generate = _generator()
    customers, orders = generate.generate(random.Random(57), CUSTOMERS)
    data = tmp_path / "data"
    data.mkdir()
    generate.write_csv(data / "customers.csv", customers)
    generate.write_csv(data / "orders.csv", orders)
    clock = StageClock(NOW)
    selligent = start_selligent_sandbox(SelligentSandboxConfig(
        port=0, data_dir=tmp_path / "selligent", seed_file=data / "customers.csv"))
    actito = start_actito_sandbox(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=tmp_path / "actito",
        seed_file=data / "customers.csv", calls_per_minute=None, etl_delay_seconds=0.05,
        sync_poll_seconds=0.1, clock=clock))
    manifests = copy_project_for(REPO / "manifests", tmp_path / "manifests", selligent, actito)
    for name in ("customers.csv", "orders.csv"):
        (manifests / "data" / name).write_bytes((data / name).read_bytes())
    set_actito_limit(manifests, "requestsPerMinute", UNPACED_CALLS_PER_MINUTE)
    unpace_selligent(manifests)
    stack = Stack(selligent, actito, manifests, tmp_path / "state.duckdb", tmp_path, clock)
    rows_per_load(stack, 1000)
    destinations = manifests / "destinations.yaml"  # one load at a time: each link's nth
    destinations.write_text(destinations.read_text("utf-8").replace(  # load is the nth sent
        "maxRowsPerLoad: 1000\n", "maxRowsPerLoad: 1000\n    concurrency: 1\n", 1), "utf-8")
    try:
        yield stack
    finally:
        stack.selligent.stop()
        stack.actito.stop()


def _restart_mid_apply(stack: Stack) -> None:
    """Stop Selligent while it holds a load (the load is never handled: its connection
    closes with no answer), let the apply fail against the closed port, start it again."""
    held = hold(stack, RESTART)
    process = start_apply(stack)
    try:
        wait_for(held, process, stack)
        stopped, port = stack.selligent, stack.selligent.server.port
        stopped.stop()
        held.drop = True
        held.released.set()
        assert process.wait(timeout=120) == 1
    finally:
        if process.poll() is None:
            process.kill()
        release(stack, held)
    stack.selligent = start_selligent_sandbox(SelligentSandboxConfig(
        port=port, data_dir=stack.workdir / "selligent", seed_file=None))


def _churn_scores(stack: Stack) -> None:
    """Every churner's churnScore at Actito is the model's: days since the last order / 365,
    at most 1, to 3 decimals."""
    reference = dt.date(2026, 11, 1)
    last: dict[str, dt.date] = {}
    for line in (stack.manifests / "data" / "orders.csv").read_text("utf-8").splitlines()[1:]:
        _, customer, day, _ = line.split(",")
        last[customer] = max(last.get(customer, dt.date.min), dt.date.fromisoformat(day))
    store = stack.actito.store
    table = store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    wrong = [pid for pid in store.target_lists["501"]["memberIds"]
             if abs(float(table.profiles[pid]["churnScore"]) - round(min(
                 1.0, (reference - last[table.profiles[pid]["customerId"]]).days / 365), 3))
             > 0.0005]
    assert wrong == []


def _converge(stack: Stack, *extra: str) -> None:
    final = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve", *extra])
    assert final.exit_code == 0, printed(final)


def test_a_large_apply_killed_link_after_link_converges_with_one_more_apply(
        large: Stack) -> None:
    # Scenario: a 50k-row first apply killed at 16 points in turn and cut off once by a
    # Selligent restart, then applied: exactly the audience everywhere; then a narrower
    # audience's removals killed at 3 more points, then applied: exactly the new audience.
    expected = matched(large)
    assert sum(expected.values()) >= 29_000
    for point in CHAIN:
        apply_killed(large, point)
    _restart_mid_apply(large)
    _converge(large)
    check(large, expected)
    _churn_scores(large)
    narrower(large)
    expected = matched(large)
    for point in REMOVALS:
        apply_killed(large, point, "--allow-mass-removal")
    _converge(large, "--allow-mass-removal")
    check(large, expected)
    _churn_scores(large)


def test_the_large_campaign_has_twenty_distinct_points() -> None:
    # Scenario: the chain interrupts twenty different steps of the apply (a step is named by
    # what it does: the same request kind recurs for another activation, e.g. a second
    # key file's rename), at least five of them part-way through an upload.
    points = [*CHAIN, RESTART, *REMOVALS]
    assert len({p.name for p in points}) == len(points) >= 20
    assert len([p for p in points if p.offset]) >= 5
