"""The Snowflake emulator the Snowflake tests reach over HTTP with the real connector.

fakesnow's server runs in this process on a free loopback port (`reconciler.sandbox.snowflake`);
each test gets a database of its own (fakesnow shares one in-memory DuckDB per process). The
emulator is a dev dependency: without it the tests are skipped, except in CI (CI=true).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from reconciler.sandbox.snowflake import SnowflakeEmulator


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
