"""Fixtures: a fresh Actito sandbox on free 127.0.0.1 ports, and clients tuned for fast tests."""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.destinations.actito import (
    ActitoAdapter,
    ActitoLimits,
    FileTransferSettings,
    RetryPolicy,
    TransferProtocol,
)
from reconciler.destinations.actito.client import ActitoClient
from reconciler.destinations.actito.targeting import ListTarget, default_pattern
from reconciler.sandbox.actito import ActitoSandbox, ActitoSandboxConfig, start_actito_sandbox

SEED = Path(__file__).resolve().parents[3] / "manifests" / "data" / "customers.csv"
FAST_RETRY = RetryPolicy(max_attempts=8, backoff_base=0.02, backoff_max=0.3)
FAST_LIMITS = ActitoLimits(max_in_flight=5, calls_per_minute=6000)


def sandbox_config(data_dir: Path, **overrides: Any) -> ActitoSandboxConfig:
    settings: dict[str, Any] = {
        "port": 0, "ftps_port": 0, "sftp_port": 0, "data_dir": data_dir, "seed_file": SEED,
        "calls_per_minute": None, "etl_delay_seconds": 0.05, "sync_poll_seconds": 0.1,
        "portal_file": None,  # nothing set up in the portal: each test sets up its own
    }
    return ActitoSandboxConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir seeded once (store, certificate, host key): copying it beats re-seeding and
    generating two RSA keys for every test."""
    data_dir = tmp_path_factory.mktemp("actito-template")
    start_actito_sandbox(sandbox_config(data_dir)).stop()
    return data_dir / "actito"


@pytest.fixture
def start(tmp_path: Path, seeded_template: Path) -> Iterator[Callable[..., ActitoSandbox]]:
    """Starts sandboxes (overrides go to the config); all are stopped after the test."""
    started: list[ActitoSandbox] = []

    def run(**overrides: Any) -> ActitoSandbox:
        data_dir = overrides.pop("data_dir", tmp_path / "data")
        target = data_dir / "actito"
        if not target.exists():
            target.mkdir(parents=True)
            for name in ("store.json", "ftps-cert.pem", "sftp-host-key.pem"):
                shutil.copy(seeded_template / name, target / name)
        sandbox = start_actito_sandbox(sandbox_config(data_dir, **overrides))
        started.append(sandbox)
        return sandbox

    yield run
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start: Callable[..., ActitoSandbox]) -> ActitoSandbox:
    return start()


def transfer_settings(sandbox: ActitoSandbox, protocol: str = "ftps",
                      **overrides: Any) -> FileTransferSettings:
    endpoint = sandbox.ftps if protocol == "ftps" else sandbox.sftp
    values: dict[str, Any] = {
        "protocol": TransferProtocol(protocol), "host": endpoint.host, "port": endpoint.port,
        "username": endpoint.username, "password": endpoint.password,
        "ca_file": endpoint.ca_file, "host_key": endpoint.host_key, "timeout_seconds": 10,
    }
    return FileTransferSettings(**{**values, **overrides})


def make_adapter(sandbox: ActitoSandbox, protocol: str = "ftps", **overrides: Any) -> ActitoAdapter:
    transfer = overrides.pop("transfer", None) or transfer_settings(sandbox, protocol)
    values: dict[str, Any] = {
        "base_url": sandbox.url, "entity": "sandbox", "profile_table": "Profiles",
        "api_key": "sandbox-api-key", "transfer": transfer, "limits": FAST_LIMITS,
        "retry": FAST_RETRY, "poll_seconds": 0.05, "pickup_wait_seconds": 10,
        "etl_timeout_seconds": 10,
    }
    return ActitoAdapter(**{**values, **overrides})


def make_client(sandbox: ActitoSandbox, **overrides: Any) -> ActitoClient:
    values: dict[str, Any] = {"limits": FAST_LIMITS, "retry": FAST_RETRY}
    return ActitoClient(sandbox.url, "sandbox-api-key", "sandbox", **{**values, **overrides})


def profile(sandbox: ActitoSandbox, customer_id: str) -> dict[str, Any] | None:
    """A profile's stored values, read straight from the sandbox's store."""
    table = sandbox.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
    pid = table.find("customerId", customer_id)
    return None if pid is None else table.profiles[pid]


def profile_count(sandbox: ActitoSandbox) -> int:
    return len(sandbox.store.entity("sandbox").table("Profiles").profiles)  # type: ignore[union-attr]


def existing_keys(adapter: ActitoAdapter, key: str, keys: list[str]) -> set[str]:
    """The keys that belong to a profile, intersected here as the planner does in DuckDB."""
    pages = adapter.iter_existing_keys(key, keys, len(keys))
    return {k for page in pages for k in page if k in set(keys)}


def api_list(name: str, key: str, validity: timedelta = timedelta(days=2)) -> ListTarget:
    """A list this tool sets up by API (`targetList.manage: api`), default file pattern."""
    return ListTarget(name, key, True, default_pattern(name), validity=validity)
