"""The sandboxes `bench/observe_http.py` serves, each filled straight into its store.

Owns, per destination: starting its sandbox (in memory where it can be, at its documented
limits, with a latency added to every answer), filling it with the generated contacts without
an API call, counting the requests it served, and the real observer of a destination manifest
aimed at it. Run inside the sandbox's own process (`observe_http.Served`), except `observer`.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from reconciler.clock import FixedClock
from reconciler.destinations.actito.observer import ActitoObserver
from reconciler.destinations.factory import open_actito_adapter, open_selligent_adapter
from reconciler.destinations.selligent.observer import SelligentObserver
from reconciler.manifests.models import ActitoDestination, SelligentDestination
from reconciler.sandbox.actito import ActitoSandboxConfig, start_actito_sandbox
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.selligent import SelligentSandboxConfig, start_selligent_sandbox
from reconciler.sandbox.selligent.app import DEFAULT_ACCOUNT

ORGANIZATION, LIST, SELLIGENT_KEY = "BENCH", "CONTACTS", "EXTERNAL_ID"
ACTITO_KEY, EXPORT_PATTERN = "customerId", "profiles_$yyyyMMdd.zip"
ACTITO_API_KEY, FTPS_USER = "sandbox-api-key", ("sandbox", "sandbox-ftp-password")


def _keys(database: Path, already: int) -> Any:
    """The contacts of `database` past the first `already`, in batches of keys."""
    with duckdb.connect(str(database), read_only=True) as conn:
        cursor = conn.execute(f"SELECT member_key FROM contacts OFFSET {already}")
        while rows := cursor.fetchmany(100_000):
            yield [row[0] for row in rows]


class _Sandbox:
    """What both served sandboxes answer alike (each sets `sandbox` as it starts)."""

    sandbox: Any

    def count(self) -> tuple[int, int]:
        """The requests served since the last count, and how many were answered 429."""
        entries = self.sandbox.log.entries()
        self.sandbox.log.clear()
        return len(entries), sum(1 for e in entries if e.status == 429)

    def stop(self) -> None:
        self.sandbox.stop()


@dataclass
class Selligent(_Sandbox):
    """The Selligent sandbox, in memory, at its documented 2,500 requests a minute per key."""

    latency: float
    workdir: Path

    def start(self) -> dict[str, Any]:
        self.sandbox = start_selligent_sandbox(SelligentSandboxConfig(
            port=0, data_dir=None, seed_file=None, organization=ORGANIZATION,
            list_api_name=LIST, key_field=SELLIGENT_KEY,
            faults=Faults(latency_ms=self.latency * 1000)))
        return {"url": self.sandbox.url}

    def fill(self, database: Path, already: int) -> int:
        """Insert the contacts past the first `already` (a dict per record, as it keeps
        them); how many the list now holds."""
        table = self.sandbox.store.organization(ORGANIZATION).list(LIST)  # type: ignore[union-attr]
        assert table is not None
        with self.sandbox.store.lock:
            for keys in _keys(database, already):
                for key in keys:
                    table.insert({SELLIGENT_KEY: key})
        return len(table.records)

@dataclass
class Actito(_Sandbox):
    """The Actito sandbox at its documented 100 calls a minute and 5 in flight per licence,
    its clock stopped at the bench's moment; the day's profile export (evidence §9) is made
    again from the profiles each fill leaves."""

    latency: float
    workdir: Path
    moment: dt.datetime = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)

    def start(self) -> dict[str, Any]:
        self.sandbox = start_actito_sandbox(ActitoSandboxConfig(
            port=0, ftps_port=0, sftp_port=0, data_dir=self.workdir / "actito", seed_file=None,
            latency_ms=self.latency * 1000, sync_poll_seconds=3600.0,
            clock=FixedClock(self.moment)))
        self.sandbox.store.path = None  # kept in memory: 10M profiles are not saved as JSON
        ftps = self.sandbox.ftps
        return {"url": self.sandbox.url, "ftps_port": ftps.port, "ca_file": str(ftps.ca_file)}

    def fill(self, database: Path, already: int) -> int:
        store = self.sandbox.store
        table = store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
        assert table is not None
        made = self.moment.isoformat()
        with store.lock:
            for keys in _keys(database, already):
                for key in keys:
                    table.create({ACTITO_KEY: key}, made)
        for old in (self.workdir / "actito").rglob("profiles_*.zip"):
            old.unlink()
        self.sandbox.exports.run_due()
        return len(table.profiles)

KINDS = {"selligent": Selligent, "actito": Actito}


def observer(kind: str, served: dict[str, Any], now: dt.datetime) -> Any:
    """The real observer of a destination manifest aimed at the served sandbox, at the whole
    budget (`budgetShare: 1`: no other integration on the key or licence, as observe.py)."""
    if kind == "selligent":
        os.environ["BENCH_SELLIGENT_KEY"] = DEFAULT_ACCOUNT.key
        os.environ["BENCH_SELLIGENT_SECRET"] = DEFAULT_ACCOUNT.secret
        selligent = SelligentDestination.model_validate({
            "type": "selligent", "baseUrl": served["url"], "organization": ORGANIZATION,
            "list": LIST, "credentials": {"apiKey": "${env:BENCH_SELLIGENT_KEY}",
                                          "apiSecret": "${env:BENCH_SELLIGENT_SECRET}"},
            "limits": {"budgetShare": 1}})
        return SelligentObserver(open_selligent_adapter("bench-selligent", selligent))
    os.environ["BENCH_ACTITO_KEY"] = ACTITO_API_KEY
    os.environ["BENCH_ACTITO_FTPS"] = FTPS_USER[1]
    actito = ActitoDestination.model_validate({
        "type": "actito", "baseUrl": served["url"], "entity": "sandbox",
        "profileTable": "Profiles", "uniqueAttributes": [ACTITO_KEY],
        "credentials": {"apiKey": "${env:BENCH_ACTITO_KEY}"},
        "fileTransfer": {"protocol": "ftps", "host": "127.0.0.1", "port": served["ftps_port"],
                         "username": FTPS_USER[0], "password": "${env:BENCH_ACTITO_FTPS}",
                         "directory": "/", "caFile": served["ca_file"]},
        "profileExport": {"fileNamePattern": EXPORT_PATTERN, "directory": "/exports"},
        "limits": {"budgetShare": 1}})
    return ActitoObserver(open_actito_adapter("bench-actito", actito, Path()), FixedClock(now))
