"""Fixtures: an in-memory Selligent sandbox on a free port, a client and an adapter aimed at
it, and a check after every test that the traffic fits the vendor's Swagger."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.destinations.selligent import SelligentAdapter, SelligentClient
from reconciler.sandbox.selligent import SelligentSandbox
from tests.destinations.selligent.harness import FAST, LIST, ORG, start, traffic_problems


@pytest.fixture(autouse=True)
def traffic_fits_the_vendor_swagger() -> Iterator[None]:
    """After each test, every sandbox it started answered (and our client asked) per the
    vendor's Swagger."""
    yield
    assert traffic_problems() == []


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
