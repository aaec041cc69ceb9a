"""End-to-end fixtures: both sandboxes on free ports and a copy of the example project
pointing at them, with its own state store."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
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
# The day every e2e test lives on: the example data was generated as of 2026-11-01 (see
# manifests/data/generate.py), so relative conditions such as `olderThan: 180d` give the same
# audience whatever today's date. The CLI gets it as `--now`, the sandboxes as their clock.
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


class StageClock:
    """The stack's clock: stopped, moved only by the test (`Stack.at`)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment
SEED = REPO / "manifests" / "data" / "customers.csv"


@dataclass
class Stack:
    selligent: SelligentSandbox
    actito: ActitoSandbox
    manifests: Path
    state: Path | str  # a DuckDB file, or a PostgreSQL URL
    clock: StageClock = field(default_factory=lambda: StageClock(NOW))

    def cli_args(self) -> list[str]:
        """The project, the state and the stack's moment as `--now`."""
        return [str(self.manifests), "--state", str(self.state),
                "--now", self.clock.now().isoformat()]

    def at(self, moment: dt.datetime) -> Stack:
        """Move the stack's clock (commands and sandboxes) to `moment`."""
        self.clock.moment = moment
        return self


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Fresh sandboxes seeded from the example data, and the example project aimed at them."""
    for name in ("SELLIGENT_API_KEY", "SELLIGENT_API_SECRET", "ACTITO_API_KEY",
                 "ACTITO_FTPS_PASSWORD", "RECONCILER_STATE_URL", "RECONCILER_NOW"):
        monkeypatch.delenv(name, raising=False)
    clock = StageClock(NOW)
    selligent = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                               seed_file=SEED))
    actito = start_actito_sandbox(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=tmp_path / "sandbox", seed_file=SEED,
        calls_per_minute=None, etl_delay_seconds=0.05, sync_poll_seconds=0.1, clock=clock))
    manifests = copy_project_for(REPO / "manifests", tmp_path / "manifests", selligent, actito)
    try:
        yield Stack(selligent, actito, manifests, tmp_path / "state.duckdb", clock)
    finally:
        selligent.stop()
        actito.stop()
