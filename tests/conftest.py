"""Shared test fixtures: the PostgreSQL server used by the source and state tests, and the
Snowflake emulator.

The server's URL comes from RECONCILER_TEST_POSTGRES_URL (default: the local server these
machines run). When no server answers, its tests are skipped with the reason, except in CI
(CI=true), where a missing server is a failure: CI must never pass by skipping them.
"""
from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from reconciler.connections import printable_url
from reconciler.sandbox.snowflake import SnowflakeEmulator

POSTGRES_URL_ENV = "RECONCILER_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL, checked once per session."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = (
            f"no PostgreSQL server answers at {printable_url(url)} ({exc}); "
            f"start one or point {POSTGRES_URL_ENV} at one"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A schema name unique to this test (parallel runs never collide), dropped afterwards."""
    name = f"reconciler_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(autouse=True)
def _fresh_request_budgets() -> Iterator[None]:
    """Each test starts with no shared pacer (a Selligent key's budget lives per process) and
    no Actito licence gate: a gate is kept per base URL and key with its first client's
    limits, and a sandbox on a port an earlier test's sandbox used would inherit its limits."""
    from reconciler.destinations.actito import limits as actito_limits
    from reconciler.destinations.pacing import forget_shared_pacers

    def forget() -> None:
        forget_shared_pacers()
        with actito_limits._GATES_LOCK:
            actito_limits._GATES.clear()

    forget()
    yield
    forget()


HEAVY_FOLDERS = ("e2e", "workflows", "fuzz", "benchmarks")  # sandboxes, processes, many cases


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest files first. `make test` runs pytest-xdist with `--dist loadfile
    --no-loadscope-reorder`: files go to workers in this order, so the `slow` ones start at
    once, then the other end-to-end, workflow, fuzz and benchmark files (by how many tests
    each has), and the short unit files fill in around them at the end. (xdist's own order,
    by tests per file, started a one-test campaign of two minutes last, alone.)"""
    per_file = Counter(item.nodeid.split("::")[0] for item in items)
    order = {id(item): index for index, item in enumerate(items)}

    def cost(item: pytest.Item) -> tuple[bool, bool, int, int]:
        file = item.nodeid.split("::")[0]
        heavy = any(f"tests/{folder}/" in file for folder in HEAVY_FOLDERS)
        return (item.get_closest_marker("slow") is None, not heavy, -per_file[file],
                order[id(item)])

    items.sort(key=cost)


# The Snowflake emulator the Snowflake tests reach over HTTP with the real connector: fakesnow's
# server runs in this process on a free loopback port; each test gets a database of its own
# (fakesnow shares one in-memory DuckDB per process). A dev dependency: without it the tests
# are skipped, except in CI (CI=true).
@pytest.fixture(scope="session")
def snowflake_emulator() -> Iterator[SnowflakeEmulator]:
    try:
        import fakesnow  # noqa: F401
        import snowflake.connector  # noqa: F401
    except ImportError as exc:
        reason = f"the Snowflake emulator is not installed ({exc}): pip install -e '.[dev]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the Snowflake emulator: {reason}")
        pytest.skip(reason)
    from reconciler.sandbox.snowflake import start_snowflake_emulator

    emulator = start_snowflake_emulator()
    yield emulator
    emulator.stop()


@pytest.fixture
def snowflake_database() -> str:
    """A database name unique to this test."""
    return f"TEST_{uuid.uuid4().hex[:10].upper()}"
