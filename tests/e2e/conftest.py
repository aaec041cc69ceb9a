"""End-to-end fixtures: both sandboxes on free ports and a copy of the example project
pointing at them, with its own state store."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.sandbox.actito import ActitoSandbox, ActitoSandboxConfig, start_actito_sandbox
from reconciler.sandbox.project import copy_project_for
from reconciler.sandbox.selligent import (
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "manifests" / "data" / "customers.csv"


@dataclass
class Stack:
    selligent: SelligentSandbox
    actito: ActitoSandbox
    manifests: Path
    state: Path | str  # a DuckDB file, or a PostgreSQL URL

    def cli_args(self) -> list[str]:
        return [str(self.manifests), "--state", str(self.state)]


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Fresh sandboxes seeded from the example data, and the example project aimed at them."""
    for name in ("SELLIGENT_API_KEY", "SELLIGENT_API_SECRET", "ACTITO_API_KEY",
                 "ACTITO_FTPS_PASSWORD", "RECONCILER_STATE_URL"):
        monkeypatch.delenv(name, raising=False)
    selligent = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                               seed_file=SEED))
    actito = start_actito_sandbox(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=tmp_path / "sandbox", seed_file=SEED,
        calls_per_minute=None, etl_delay_seconds=0.05, sync_poll_seconds=0.1))
    manifests = copy_project_for(REPO / "manifests", tmp_path / "manifests", selligent, actito)
    try:
        yield Stack(selligent, actito, manifests, tmp_path / "state.duckdb")
    finally:
        selligent.stop()
        actito.stop()
