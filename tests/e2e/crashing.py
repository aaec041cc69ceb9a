"""What the crash campaigns share: holding a sandbox at a chosen point of an apply, killing the
apply there, and checking what the destinations hold against the audience.

A point is a request the sandbox holds before answering (its `nth` of a kind), or the `nth`
upload of a kind held once `offset` bytes of its body have arrived (an HTTP body or an FTPS
file): the apply is provably at that step when it dies, with no sleeps.
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

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from reconciler.sandbox.http import BODY_CHUNK, DropConnection, Request
from tests.e2e.conftest import Stack, printed
from tests.timing import wait_until

runner = CliRunner()
RECONCILER = Path(sys.executable).parent / "reconciler"
SEGMENT_LOAD = r"/segments/[^/]+/data/load$"
LIST_LOAD = r"/lists/CONTACTS/data/load$"


@dataclass(frozen=True)
class KillPoint:
    name: str
    sandbox: str  # selligent | actito | actito-ftps (a command, or an upload's data)
    method: str  # an HTTP method, or STOR / RNTO / RETR
    path: str  # a regex searched in the request's path
    nth: int
    removals: bool = False  # killed while a narrower segment removes members
    offset: int = 0  # > 0: held once this many bytes of the nth upload's body have arrived


# The HTTP sandboxes' threads earlier points held (one per connection): after its apply was
# killed, a held request goes on (reading the rest of its body, then being answered to no one)
# while the next point's hooks are already installed; those must not count it as the next
# apply's request.
_LINGERING: list[threading.Thread] = []


class Held:
    """Holds the sandbox at `point` until released; `drop` makes the held request end with
    its connection closed and no answer (a server dying mid-request)."""

    def __init__(self, point: KillPoint) -> None:
        self.point, self.seen, self.drop = point, 0, False
        self.reached, self.released = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def _wanted(self, method: str, path: str) -> bool:
        current = threading.current_thread()
        return (method == self.point.method and re.search(self.point.path, path) is not None
                and not any(current is thread for thread in _LINGERING))

    def _hold(self) -> None:
        if self.point.sandbox != "actito-ftps":  # FTPS: one thread serves every connection
            _LINGERING.append(threading.current_thread())
        self.reached.set()
        self.released.wait(120)

    def __call__(self, request: Request | str) -> None:
        """Before a request is answered (HTTP) or a command runs (FTPS)."""
        method, path = (request, "") if isinstance(request, str) else (request.method,
                                                                       request.path)
        if not self._wanted(method, path):
            return
        if self.point.offset:  # an upload: counted here, held as its data arrives
            if self.point.sandbox == "actito-ftps":
                with self._lock:
                    self.seen += 1
            return
        with self._lock:
            self.seen += 1
            mine = self.seen == self.point.nth
        if mine:
            self._hold()
            if self.drop:
                raise DropConnection

    def receiving(self, method: str, path: str, read: int) -> None:
        """As an HTTP body arrives: `read` bytes so far."""
        if not self.point.offset or not self._wanted(method, path):
            return
        with self._lock:
            if read <= BODY_CHUNK:  # a new body's first chunk
                self.seen += 1
            mine = self.seen == self.point.nth and not self.reached.is_set()
        if mine and read >= self.point.offset:
            self._hold()

    def receiving_file(self, read: int) -> None:
        """As an FTPS upload's data arrives: `read` bytes so far of the last STOR."""
        if self.point.offset and self.seen == self.point.nth and not self.reached.is_set() \
                and read >= self.point.offset:
            self._hold()


def hold(stack: Stack, point: KillPoint) -> Held:
    """Install a `Held` for `point` on the stack's sandbox; `release` removes it."""
    held = Held(point)
    if point.sandbox == "actito-ftps":
        stack.actito.ftps_server.before_command = held
        stack.actito.ftps_server.while_receiving = held.receiving_file
    else:
        sandbox = stack.selligent if point.sandbox == "selligent" else stack.actito
        sandbox.faults.before_answer = held
        sandbox.faults.while_receiving = held.receiving
    return held


def release(stack: Stack, held: Held) -> None:
    held.released.set()
    for faults in (stack.selligent.faults, stack.actito.faults):
        faults.before_answer = faults.while_receiving = None
    stack.actito.ftps_server.before_command = None
    stack.actito.ftps_server.while_receiving = None


def start_apply(stack: Stack, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "CI": "true"})


def wait_for(held: Held, process: subprocess.Popen[bytes], stack: Stack) -> None:
    """Until the apply reaches the held point; fails naming what it did if it ended first."""
    wait_until(lambda: held.reached.is_set() or process.poll() is not None,
               f"the apply reached {held.point.name} or ended", timeout=180)
    if not held.reached.is_set():
        seen = sorted({f"{e.method} {e.path}" for sandbox in (stack.selligent, stack.actito)
                       for e in sandbox.log.entries()})
        raise AssertionError(f"the apply ended without reaching {held.point.name}: {seen}")


def apply_killed(stack: Stack, point: KillPoint, *extra: str) -> None:
    """Run `apply`, SIGKILL it once it reaches `point`."""
    held = hold(stack, point)
    process = start_apply(stack, *extra)
    try:
        wait_for(held, process, stack)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        release(stack, held)
    assert process.returncode == -signal.SIGKILL


def matched(stack: Stack) -> dict[str, int]:
    """Per activation, the members the plan expects at the destination."""
    planned = runner.invoke(app, ["plan", *stack.cli_args(), "--format", "json"])
    document = json.loads(printed(planned))
    return {a["activation"]: a["members"]["matched"] for a in document["activations"]}


def segment_members(stack: Stack, api_name: str) -> list[str]:
    adapter = SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                               list_api_name="CONTACTS", api_key="sandbox-key",
                               api_secret="sandbox-secret")
    with adapter:
        return [key for page in adapter.iter_segment_member_keys(api_name, "EXTERNAL_ID")
                for key in page]


def check(stack: Stack, expected: dict[str, int]) -> None:
    """A refreshed plan is empty (Selligent's members and mapped values included), each
    Selligent segment and Actito list holds exactly the expected members, none twice, and
    every Actito churner has a churnScore."""
    refreshed = runner.invoke(app, ["plan", *stack.cli_args(), "--refresh",
                                    "--detailed-exitcode"])
    assert refreshed.exit_code == 0, printed(refreshed)
    for activation, segment in (("churn-selligent", "Churn_risk"),
                                ("vip-selligent", "VIP_customers")):
        members = segment_members(stack, segment)
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


def narrower(stack: Stack) -> None:
    """Fewer VIPs and churners: the next apply removes members from both segments."""
    segments = stack.manifests / "segments.yaml"
    text = segments.read_text("utf-8").replace("gte: 1000", "gte: 1500")
    segments.write_text(text.replace("{column: order_count, gte: 2}",
                                     "{column: order_count, gte: 3}"), "utf-8")


def rows_per_load(stack: Stack, rows: int) -> None:
    destinations = stack.manifests / "destinations.yaml"
    text = destinations.read_text("utf-8")
    destinations.write_text(text.replace("maxRowsPerLoad: 10000", f"maxRowsPerLoad: {rows}"),
                            "utf-8")


def killed_then_applied(stack: Stack, point: KillPoint) -> None:
    """The small campaign's case: the example's apply (40-row loads) killed at `point`, from a
    fresh start or, for a removal point, after a first apply and a narrower audience; then
    one apply converges."""
    rows_per_load(stack, 40)
    extra: tuple[str, ...] = ()
    if point.removals:  # more than the guards allow: allowed, as people do for a planned cut
        first = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
        assert first.exit_code == 0, printed(first)
        narrower(stack)
        extra = ("--allow-mass-removal",)
    expected = matched(stack)
    apply_killed(stack, point, *extra)
    resumed = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve", *extra])
    assert resumed.exit_code == 0, printed(resumed)
    check(stack, expected)
