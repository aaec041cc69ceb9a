"""End-to-end fixtures: both sandboxes on free ports and a copy of the example project
pointing at them, with its own state store.

Every scenario runs twice, once per state backend (a DuckDB file, a PostgreSQL schema), so a
bug of one backend cannot pass; a scenario that only makes sense on one names it with
`@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from click.testing import Result
from psycopg import sql

from reconciler.executing.progress import STEP_LINE_PREFIX
from reconciler.sandbox.actito import ActitoSandbox, ActitoSandboxConfig, start_actito_sandbox
from reconciler.sandbox.project import copy_project_for
from reconciler.sandbox.selligent import (
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)
from reconciler.state.store import split_schema

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
    workdir: Path  # the test's own directory, for saved plans and other files
    clock: StageClock = field(default_factory=lambda: StageClock(NOW))

    def cli_args(self) -> list[str]:
        """The project, the state and the stack's moment as `--now`."""
        return [str(self.manifests), "--state", str(self.state),
                "--now", self.clock.now().isoformat()]

    @property
    def on_postgres(self) -> bool:
        return not isinstance(self.state, Path)

    def state_sql(self, *statements: str) -> list[tuple[Any, ...]]:
        """Run `statements` on the state store directly (to stage what an older version or
        another writer left); the rows of the last one."""
        if isinstance(self.state, Path):
            with duckdb.connect(str(self.state)) as conn:
                for statement in statements:
                    rows = conn.execute(statement).fetchall()
                return rows
        url, schema = split_schema(self.state)
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema or "")))
            for statement in statements:
                cursor = pg.execute(statement.encode())
                rows = cursor.fetchall() if cursor.description else []
            return rows

    def at(self, moment: dt.datetime) -> Stack:
        """Move the stack's clock (commands and sandboxes) to `moment`."""
        self.clock.moment = moment
        return self


# The e2e Actito sandbox counts no calls (`calls_per_minute=None`), so the project copy lets
# the client send as many: the licence's pacing has its own tests (destinations/actito), and
# in one test process the CLI commands of a scenario would otherwise share one minute's 100.
UNPACED_CALLS_PER_MINUTE = 1_000_000


def state_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A fresh state store of `backend`: a DuckDB file, or a schema of the test server."""
    if backend == "duckdb":
        return tmp_path / "state.duckdb"
    url = request.getfixturevalue("postgres_url")
    return f"{url}?schema={request.getfixturevalue('postgres_schema')}"


BACKENDS = ("duckdb", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test using `stack` runs on each state backend its module's `STATE_BACKENDS` names
    (default both), unless it parametrizes `stack` itself. The scenarios of how the store
    keeps state (plan and apply, saved plans, locks, resume, runs, encryption, workflows) run
    on both; those about a destination's behaviour name DuckDB only: the store's every
    operation is proven on both backends by tests/state."""
    if "stack" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "stack" in ([n.strip() for n in names.split(",")] if isinstance(names, str)
                       else names):
            return
    backends = getattr(metafunc.module, "STATE_BACKENDS", BACKENDS)
    metafunc.parametrize("stack", backends, indirect=True)


@pytest.fixture
def stack(request: pytest.FixtureRequest, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Fresh sandboxes seeded from the example data, the example project aimed at them, and a
    state store of the parameter's backend."""
    state = state_for(request.param, request, tmp_path)
    for name in ("SELLIGENT_API_KEY", "SELLIGENT_API_SECRET", "ACTITO_API_KEY",
                 "ACTITO_FTPS_PASSWORD", "CRM_ALERTS_WEBHOOK", "RECONCILER_STATE_URL",
                 "RECONCILER_NOW"):
        monkeypatch.delenv(name, raising=False)
    clock = StageClock(NOW)
    selligent = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                               seed_file=SEED))
    actito = start_actito_sandbox(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=tmp_path / "sandbox", seed_file=SEED,
        calls_per_minute=None, etl_delay_seconds=0.05, sync_poll_seconds=0.1, clock=clock,
        documented_only=request.node.get_closest_marker("actito_documented_only") is not None))
    manifests = copy_project_for(REPO / "manifests", tmp_path / "manifests", selligent, actito)
    set_actito_limit(manifests, "requestsPerMinute", UNPACED_CALLS_PER_MINUTE)
    unpace_selligent(manifests)
    try:
        yield Stack(selligent, actito, manifests, state, tmp_path, clock)
    finally:
        selligent.stop()
        actito.stop()


def unpace_selligent(manifests: Path) -> None:
    """The Selligent client unpaced: the scenarios are about data, not pace, and stay far
    below the sandbox's documented 2,500 a minute (tests/destinations/selligent checks the
    pacing and the 429s)."""
    destinations = manifests / "destinations.yaml"
    text = destinations.read_text("utf-8")
    assert "    maxRowsPerLoad: 10000\n" in text
    destinations.write_text(text.replace(
        "    maxRowsPerLoad: 10000\n",
        "    maxRowsPerLoad: 10000\n    requestsPerSecond: 1000\n", 1),
        "utf-8")


def set_actito_limit(manifests: Path, key: str, value: int) -> None:
    """Add `key: value` to the limits of the Actito destination (the file's last document;
    the block is appended at its end, so later limits go after it)."""
    destinations = manifests / "destinations.yaml"
    text = destinations.read_text("utf-8").rstrip("\n")
    if "\n  limits:" not in text.rsplit("\n---\n", 1)[-1]:
        text += "\n  limits:"
    destinations.write_text(f"{text}\n    {key}: {value}\n", "utf-8")


def printed(result: Result) -> str:
    """What a command printed (stdout and stderr, as a terminal shows them) without the
    `State: …` line every state-using command starts with on stderr, and the planning
    steps' progress lines (`· activation: step: …`)."""
    return "".join(line for line in result.output.splitlines(keepends=True)
                   if not line.startswith(("State: ", STEP_LINE_PREFIX)))


def one_shot_imports(manifests: Path) -> None:
    """churn-actito without its portal ETL (etlId): its updates go as one-shot executions."""
    churn = manifests / "activations" / "churn-actito.yaml"
    kept = [line for line in churn.read_text("utf-8").splitlines(keepends=True)
            if not line.startswith("  etlId:")]
    churn.write_text("".join(kept), "utf-8")
