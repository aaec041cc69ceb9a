"""`reconciler sandbox`: run the local destination API sandboxes in the foreground.

Each sandbox is started by a small `_start_*` function that returns its running handle and the
lines that say where it listens; the command starts them all, prints those lines, then waits
for Ctrl-C and stops them. Adding a sandbox is one more starter and one more call.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import typer

from reconciler.cli.app import app
from reconciler.sandbox.http import Faults
from reconciler.sandbox.seed import DEFAULT_SEED_FILE
from reconciler.sandbox.selligent import (
    SelligentSandboxConfig,
    ServiceAccount,
    start_selligent_sandbox,
)
from reconciler.sandbox.selligent import server as selligent_defaults
from reconciler.sandbox.selligent.app import DEFAULT_ACCOUNT


class _Running(Protocol):
    def stop(self) -> None: ...


def _start_selligent(config: SelligentSandboxConfig) -> tuple[_Running, list[str]]:
    sandbox = start_selligent_sandbox(config)
    account = config.accounts[0]
    table = sandbox.store.organization(config.organization)
    records = sum(len(t.records) for t in table.lists) if table else 0
    lines = [
        f"Selligent sandbox listening on {sandbox.url}",
        f"  organization {config.organization}, audience list {config.list_api_name} "
        f"(key field {config.key_field}), {records} contacts",
        f"  API key: X-ApiKey: {account.key}:{account.secret}  (sandbox-only, not a secret)",
        f"  data kept in {config.data_dir}/selligent" if config.data_dir else "  data in memory",
    ]
    return sandbox, lines


def _wait_until_interrupted(running: list[_Running]) -> None:
    """Sleep until Ctrl-C, keeping long-running sandboxes' in-memory request logs bounded."""
    try:
        while True:
            time.sleep(1.0)
            for handle in running:
                trim = getattr(handle, "trim_log", None)
                if trim is not None:
                    trim()
    except KeyboardInterrupt:
        pass


def _serve(starters: list[Callable[[], tuple[_Running, list[str]]]]) -> None:
    """Start each sandbox and say where it listens; wait for Ctrl-C; stop them all."""
    running: list[_Running] = []
    try:
        for start in starters:
            try:
                handle, lines = start()
            except OSError as exc:  # e.g. the port is taken
                typer.echo(f"Error: cannot start a sandbox: {exc}", err=True)
                raise typer.Exit(1) from exc
            running.append(handle)
            for line in lines:
                typer.echo(line)
        typer.echo("Press Ctrl-C to stop.")
        _wait_until_interrupted(running)
    finally:
        for handle in reversed(running):
            handle.stop()
        if running:
            typer.echo("Sandboxes stopped.")


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    selligent_port: int = typer.Option(
        selligent_defaults.DEFAULT_PORT, "--selligent-port", help="Selligent port (0: any free)."
    ),
    data_dir: Path = typer.Option(
        selligent_defaults.DEFAULT_DATA_DIR, help="Where the sandboxes keep their data."
    ),
    in_memory: bool = typer.Option(False, help="Keep nothing on disk (forget data on exit)."),
    seed_file: Path = typer.Option(DEFAULT_SEED_FILE, help="Contacts CSV used on first start."),
    latency_ms: float = typer.Option(0.0, help="Added to every answer."),
    error_ratio: float = typer.Option(0.0, help="Share of requests answered 503 (0..1)."),
    drop_ratio: float = typer.Option(0.0, help="Share of connections dropped (0..1)."),
    requests_per_second: float | None = typer.Option(
        None, help="Above it: 429 with Retry-After."
    ),
    max_body_bytes: int | None = typer.Option(None, help="Above it: 413."),
    max_rows_per_load: int = typer.Option(
        selligent_defaults.inferred.DEFAULT_MAX_ROWS_PER_LOAD,
        help="Selligent: rows allowed in one data load or delete.",
    ),
    selligent_org: str = typer.Option(selligent_defaults.DEFAULT_ORGANIZATION,
                                      help="Selligent organization."),
    selligent_list: str = typer.Option(selligent_defaults.DEFAULT_LIST,
                                       help="Selligent audience list api name."),
    selligent_key_field: str = typer.Option(selligent_defaults.DEFAULT_KEY_FIELD,
                                            help="Field of the customer id in that list."),
    selligent_api_key: str = typer.Option(
        f"{DEFAULT_ACCOUNT.key}:{DEFAULT_ACCOUNT.secret}", help="Accepted X-ApiKey (key:secret)."
    ),
) -> None:
    """Run the local API sandboxes in the foreground until Ctrl-C."""
    faults = Faults(
        latency_ms=latency_ms, error_ratio=error_ratio, drop_ratio=drop_ratio,
        requests_per_second=requests_per_second, max_body_bytes=max_body_bytes,
    )
    directory = None if in_memory else data_dir
    seed = seed_file if seed_file.exists() else None
    if seed is None:
        typer.echo(f"Seed file {seed_file} not found: new lists start empty.", err=True)
    if ":" not in selligent_api_key:
        raise typer.BadParameter("expected key:secret", param_hint="--selligent-api-key")
    selligent = SelligentSandboxConfig(
        host=host, port=selligent_port, data_dir=directory, seed_file=seed, faults=faults,
        max_rows_per_load=max_rows_per_load, organization=selligent_org,
        list_api_name=selligent_list, key_field=selligent_key_field,
        accounts=[ServiceAccount.parse(selligent_api_key)],
    )
    starters: list[Callable[[], tuple[_Running, list[str]]]] = [
        lambda: _start_selligent(selligent),
    ]
    _serve(starters)
