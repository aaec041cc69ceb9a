"""Shared test helpers: start in-memory Selligent sandboxes and check their traffic.

Tests import these from `tests.destinations.selligent.harness` (not from conftest, which
pytest imports under another module name): the registry of started sandboxes must be one list.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from reconciler.destinations.selligent import SelligentLimits
from reconciler.sandbox.selligent import (
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)
from reconciler.sandbox.selligent.store import ListTable
from tests.destinations.selligent.swagger import Contract, load_spec

SEED_FILE = Path(__file__).resolve().parents[3] / "manifests" / "data" / "customers.csv"
KEY = {"X-ApiKey": "sandbox-key:sandbox-secret"}
ORG, LIST = "SANDBOX", "CONTACTS"
# Short waits so retries do not slow the suite; Retry-After is still honoured.
FAST = SelligentLimits(backoff_base=0.01, backoff_max=0.05, jitter=0.5, max_attempts=8)

_started: list[SelligentSandbox] = []  # the sandboxes started since the last check


def start(**overrides: Any) -> SelligentSandbox:
    """An in-memory sandbox on a free port; its traffic is checked against the Swagger."""
    config = SelligentSandboxConfig(port=0, data_dir=None, seed_file=SEED_FILE)
    for name, value in overrides.items():
        setattr(config, name, value)
    running = start_selligent_sandbox(config)
    _started.append(running)
    return running


def traffic_problems() -> list[str]:
    """Swagger problems in the traffic of the sandboxes started since the last call: every
    answer, and every request our client sent (raw test requests may be malformed)."""
    contract = Contract(load_spec())
    problems = [
        problem
        for running in _started for entry in running.log.entries() if entry.status
        for problem in contract.check(
            entry, request=entry.headers.get("user-agent", "").startswith("audience-reconciler"))
    ]
    _started.clear()
    return problems


def contacts(sandbox: SelligentSandbox) -> ListTable:
    """The sandbox's seeded audience list, straight from its store."""
    table = sandbox.store.organizations[0].list(LIST)
    assert table is not None
    return table


def call(sandbox: SelligentSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A raw HTTP call with the sandbox key (for the sandbox's own tests)."""
    headers = {**KEY, **kwargs.pop("headers", {})}
    return requests.request(method, sandbox.url + path, headers=headers, timeout=10, **kwargs)
