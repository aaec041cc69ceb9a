"""Fixtures: an in-memory Selligent sandbox on a free port, and a client/adapter aimed at it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.destinations.selligent import SelligentAdapter, SelligentClient, SelligentLimits
from reconciler.sandbox.selligent import (
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)
from reconciler.sandbox.selligent.store import ListTable

SEED_FILE = Path(__file__).resolve().parents[2] / "manifests" / "data" / "customers.csv"
KEY = {"X-ApiKey": "sandbox-key:sandbox-secret"}
ORG, LIST = "SANDBOX", "CONTACTS"
# Short waits so retries do not slow the suite; Retry-After is still honoured.
FAST = SelligentLimits(backoff_base=0.01, backoff_max=0.05, jitter=0.5, max_attempts=8)


def start(**overrides: Any) -> SelligentSandbox:
    config = SelligentSandboxConfig(port=0, data_dir=None, seed_file=SEED_FILE)
    for name, value in overrides.items():
        setattr(config, name, value)
    return start_selligent_sandbox(config)


@pytest.fixture
def sandbox() -> Iterator[SelligentSandbox]:
    running = start()
    yield running
    running.stop()


@pytest.fixture
def client(sandbox: SelligentSandbox) -> Iterator[SelligentClient]:
    made = SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret", FAST)
    yield made
    made.close()


@pytest.fixture
def adapter(sandbox: SelligentSandbox) -> Iterator[SelligentAdapter]:
    made = SelligentAdapter(base_url=sandbox.url, organization=ORG, list_api_name=LIST,
                            api_key="sandbox-key", api_secret="sandbox-secret", limits=FAST)
    yield made
    made.close()


def contacts(sandbox: SelligentSandbox) -> ListTable:
    """The sandbox's seeded audience list, straight from its store."""
    table = sandbox.store.organizations[0].list(LIST)
    assert table is not None
    return table


def call(sandbox: SelligentSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A raw HTTP call with the sandbox key (for the sandbox's own tests)."""
    headers = {**KEY, **kwargs.pop("headers", {})}
    return requests.request(method, sandbox.url + path, headers=headers, timeout=10, **kwargs)
