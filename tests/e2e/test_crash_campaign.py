"""The crash campaign (issue 17): the example's apply killed with SIGKILL at 26 distinct points,
each followed by one `apply`, then checked against the destinations themselves.

A kill point is a request the sandbox holds before answering (its `nth` of a kind), so the
apply is provably at that step when it dies: no sleeps. The points cover planning (the first
reads of either destination), creating segments and fields, adding members, updating profiles
and removing members in Selligent, and, in Actito, the writer's first call, the ETL trigger and
its first status read, and the FTPS server holding a key file's upload (STOR) or its rename
from the temporary name (RNTO). After the kill one
apply must converge: the refreshed plan is empty, each Selligent segment and Actito list holds
exactly the audience's matched members (none lost, none extra, none twice), and every Actito
member has its updated churnScore. The state is DuckDB: where the kill lands is what varies.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from reconciler.sandbox.http import Request
from tests.e2e.conftest import Stack, printed
from tests.timing import wait_until

runner = CliRunner()
RECONCILER = Path(sys.executable).parent / "reconciler"
SEGMENT_LOAD = r"/segments/[^/]+/data/load$"
LIST_LOAD = r"/lists/CONTACTS/data/load$"


@dataclass(frozen=True)
class KillPoint:
    name: str
    sandbox: str  # selligent | actito
    method: str
    path: str  # a regex searched in the request's path
    nth: int
    removals: bool = False  # killed while a narrower segment removes members


POINTS = [
    KillPoint("plan: Selligent's fields read", "selligent", "GET", r"/CONTACTS/fields$", 1),
    KillPoint("plan: Selligent's segment read", "selligent", "GET", r"/segments/[^/]+$", 1),
    KillPoint("plan: Selligent's contact index", "selligent", "POST", r"/data/search$", 1),
    KillPoint("plan: Actito's token", "actito", "GET", r"^/auth/token$", 1),
    KillPoint("plan: Actito's table list", "actito", "GET", r"/profile-tables$", 1),
    KillPoint("create: first static segment", "selligent", "POST", r"/segments/static$", 1),
    KillPoint("create: second static segment", "selligent", "POST", r"/segments/static$", 2),
    KillPoint("create: the LTV field", "selligent", "POST", r"/CONTACTS/fields$", 1),
    KillPoint("add members: load 1", "selligent", "POST", SEGMENT_LOAD, 1),
    KillPoint("add members: load 3", "selligent", "POST", SEGMENT_LOAD, 3),
    KillPoint("add members: load 10", "selligent", "POST", SEGMENT_LOAD, 10),
    KillPoint("add members: load 20", "selligent", "POST", SEGMENT_LOAD, 20),
    KillPoint("update profiles: load 1", "selligent", "POST", LIST_LOAD, 1),
    KillPoint("update profiles: load 5", "selligent", "POST", LIST_LOAD, 5),
    KillPoint("update profiles: load 15", "selligent", "POST", LIST_LOAD, 15),
    KillPoint("update profiles: load 22", "selligent", "POST", LIST_LOAD, 22),
    KillPoint("Actito writer: its first call", "actito", "GET", r"^/auth/token$", 2),
    KillPoint("Actito: the ETL trigger", "actito", "POST", r"/trigger-execution$", 1),
    KillPoint("Actito: the ETL's first status", "actito", "GET", r"/etl-executions/[^/]+$", 1),
    KillPoint("Actito: the first key file's upload", "actito-ftps", "STOR", "", 1),
    KillPoint("Actito: the first key file's rename", "actito-ftps", "RNTO", "", 1),
    KillPoint("Actito: the second key file's upload", "actito-ftps", "STOR", "", 2),
    KillPoint("remove members: call 1", "selligent", "DELETE", r"/segments/[^/]+/data$", 1,
              removals=True),
    KillPoint("remove members: call 2", "selligent", "DELETE", r"/segments/[^/]+/data$", 2,
              removals=True),
    KillPoint("removals: the plan's contact index", "selligent", "POST", r"/data/search$", 1,
              removals=True),
    KillPoint("removals: Actito's table list", "actito", "GET", r"/profile-tables$", 1,
              removals=True),
]


class Held:
    """Holds the sandbox's `nth` request of a kind before answering it, until released."""

    def __init__(self, point: KillPoint) -> None:
        self.point, self.seen = point, 0
        self.reached, self.released = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: Request | str) -> None:
        method, path = (request, "") if isinstance(request, str) else (request.method,
                                                                       request.path)
        if method != self.point.method or not re.search(self.point.path, path):
            return
        with self._lock:
            self.seen += 1
            mine = self.seen == self.point.nth
        if mine:
            self.reached.set()
            self.released.wait(60)


def _narrower(stack: Stack) -> None:
    """Fewer VIPs and churners: the next apply removes members from both segments."""
    segments = stack.manifests / "segments.yaml"
    text = segments.read_text("utf-8").replace("gte: 1000", "gte: 1500")
    segments.write_text(text.replace("{column: order_count, gte: 2}",
                                     "{column: order_count, gte: 3}"), "utf-8")


def _small_batches(stack: Stack) -> None:
    destinations = stack.manifests / "destinations.yaml"
    text = destinations.read_text("utf-8").replace("maxRowsPerLoad: 10000", "maxRowsPerLoad: 40")
    destinations.write_text(text, "utf-8")


def _apply_killed(stack: Stack, point: KillPoint, *extra: str) -> None:
    sandbox = stack.selligent if point.sandbox == "selligent" else stack.actito
    held = Held(point)
    if point.sandbox == "actito-ftps":
        stack.actito.ftps_server.before_command = held
    else:
        sandbox.faults.before_answer = held
    process = subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "CI": "true"})
    try:
        wait_until(lambda: held.reached.is_set() or process.poll() is not None,
                   f"the apply reached {point.name} or ended", timeout=120)
        seen = sorted({f"{e.method} {e.path}" for e in sandbox.log.entries()})
        assert held.reached.is_set(), f"the apply ended without reaching {point.name}: {seen}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        held.released.set()
        sandbox.faults.before_answer = None
        stack.actito.ftps_server.before_command = None
    assert process.returncode == -signal.SIGKILL


def _matched(stack: Stack) -> dict[str, int]:
    planned = runner.invoke(app, ["plan", *stack.cli_args(), "--format", "json"])
    document = json.loads(printed(planned))
    return {a["activation"]: a["members"]["matched"] for a in document["activations"]}


def _segment_members(stack: Stack, api_name: str) -> list[str]:
    adapter = SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                               list_api_name="CONTACTS", api_key="sandbox-key",
                               api_secret="sandbox-secret")
    with adapter:
        return [key for page in adapter.iter_segment_member_keys(api_name, "EXTERNAL_ID")
                for key in page]


def _check(stack: Stack, expected: dict[str, int]) -> None:
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh", "--detailed-exitcode"])
    assert check.exit_code == 0, printed(check)
    for activation, segment in (("churn-selligent", "Churn_risk"),
                                ("vip-selligent", "VIP_customers")):
        members = _segment_members(stack, segment)
        assert len(members) == len(set(members)) == expected[activation], activation
    store = stack.actito.store
    table = store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    assert table is not None
    for activation, list_id in (("churn-actito", "501"), ("sms-actito", "502")):
        wait_until(lambda lid=list_id, n=expected[activation]:  # type: ignore[misc]
                   len(store.target_lists[lid]["memberIds"]) == n,
                   f"list {list_id} holds the {activation} audience")
    churners = store.target_lists["501"]["memberIds"]
    assert all(table.profiles[pid].get("churnScore") is not None for pid in churners)


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_an_apply_killed_at_any_point_converges_with_one_more_apply(
        stack: Stack, point: KillPoint) -> None:
    _small_batches(stack)
    extra: tuple[str, ...] = ()
    if point.removals:  # more than the guards allow: allowed, as people do for a planned cut
        first = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
        assert first.exit_code == 0, printed(first)
        _narrower(stack)
        extra = ("--allow-mass-removal",)
    expected = _matched(stack)
    _apply_killed(stack, point, *extra)
    resumed = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve", *extra])
    assert resumed.exit_code == 0, printed(resumed)
    _check(stack, expected)


def test_the_campaign_has_twenty_distinct_points() -> None:
    assert len({(p.sandbox, p.method, p.path, p.nth, p.removals) for p in POINTS}) >= 20
