"""`reconciler sandbox`: run the local destination API sandboxes in the foreground.

Each sandbox is started by a small `_start_*` function that returns its running handle and the
lines that say where it listens; the command starts them all, prints those lines, then waits
for Ctrl-C and stops them. Adding a sandbox is one more starter and one more call.
"""
from __future__ import annotations

import gc
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import typer

from reconciler.cli.app import app, user_errors
from reconciler.sandbox.actito import ActitoSandboxConfig
from reconciler.sandbox.actito.config import DEFAULT_DATA_DIR
from reconciler.sandbox.example import example_seed_file
from reconciler.sandbox.http import Faults
from reconciler.sandbox.project import DEFAULT_CA_FILE
from reconciler.sandbox.seed import SEED_FIELDS, check_seed_file, unknown_fields
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


def _start_actito(config: ActitoSandboxConfig) -> tuple[_Running, list[str]]:
    from reconciler.sandbox.actito import start_actito_sandbox  # the servers: see its __init__

    sandbox = start_actito_sandbox(config)
    table = sandbox.store.entity(config.entity)
    profiles = table.table(config.profile_table) if table else None
    ftps, sftp = sandbox.ftps, sandbox.sftp
    certificate = Path(ftps.ca_file or "").resolve()  # absolute: manifests live elsewhere
    lines = [
        f"Actito sandbox listening on {sandbox.url}",
        f"  entity {config.entity}, profile table {config.profile_table} "
        f"({len(profiles.profiles) if profiles else 0} profiles)",
        f"  API key: {config.api_key}  (GET {sandbox.url}/auth/token with header "
        "'Authorization: <key>'; sandbox-only, not a secret)",
        f"  FTPS (explicit TLS) on {ftps.host}:{ftps.port}, user {ftps.username} password "
        f"{ftps.password}; trust the certificate {certificate}",
        f"  SFTP on {sftp.host}:{sftp.port}, user {sftp.username} password {sftp.password}; "
        f"host key {(sftp.host_key or '')[:40]}…",
        f"  limits: {config.max_in_flight} in flight, {config.calls_per_minute} calls/min, "
        f"{config.bulk_imports_per_day} imports/table/day, {config.max_file_bytes} bytes/file, "
        f"tokens {config.token_ttl_seconds:.0f}s",
        f"  data kept in {config.actito_dir}" if config.persist else "  data in memory",
    ]
    if not config.persist or Path(config.data_dir) != DEFAULT_DATA_DIR:
        # The example manifests trust the default data dir's certificate (their caFile).
        lines.append(f"  note: set the Actito destination's fileTransfer.caFile to "
                     f"{certificate} (the example's {DEFAULT_CA_FILE} is the default "
                     "data dir's)")
    return sandbox, lines


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_until_interrupted(running: list[_Running]) -> None:
    """Sleep until Ctrl-C (or SIGTERM, see `_serve`), keeping long-running sandboxes'
    in-memory request logs bounded."""
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
    """Start each sandbox and say where it listens; wait for Ctrl-C; stop them all.

    SIGTERM (what `kill`, `docker stop`, systemd and CI runners send) stops them as Ctrl-C
    does, from before the first one listens: stopping saves every write they acknowledged."""
    running: list[_Running] = []
    previous = signal.signal(signal.SIGTERM, _interrupt)
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
        # A long-running server from here on: the seeded stores (hundreds of thousands of
        # objects that live as long as the process) leave the cyclic garbage collector, which
        # would otherwise walk them all on every full collection (tens of milliseconds,
        # stalling every request thread, every few loads).
        gc.freeze()
        typer.echo("Press Ctrl-C to stop.")
        _wait_until_interrupted(running)
    finally:
        for handle in reversed(running):
            handle.stop()
        if running:
            typer.echo("Sandboxes stopped.")
        signal.signal(signal.SIGTERM, previous)


SEED_FILE_OPTION = typer.Option(
    None, show_default=False, help="Contacts CSV used on first start (columns: see the README's "
    "'Seed file'). Default: the example project's customers.")
SEED_COLUMN_OPTION = typer.Option(
    [], "--seed-column", metavar="FIELD=COLUMN", show_default=False,
    help="Read a seed field from the CSV column of another name, e.g. customer_id=id "
    f"(repeatable; fields: {', '.join(SEED_FIELDS)}).")
# The Selligent tenant's documented limits and its unknowns (api/selligent.md §8), as knobs.
SELLIGENT_TENANT = {"requests-per-minute": ("requests_per_minute", int),
                    "max-take": ("max_take", int),
                    "unknown-segment-status": ("unknown_segment_status", int),
                    "inbound-limit-seconds": ("inbound_limit_seconds", float),
                    "seconds-per-1000-rows": ("seconds_per_1000_rows", float)}
SELLIGENT_TENANT_OPTION = typer.Option(
    [], "--selligent-tenant", metavar="KNOB=VALUE", show_default=False,
    help="Selligent tenant limit (repeatable): requests-per-minute (documented 2500, per key; "
    "0: none), inbound-limit-seconds (documented 15; 0: none), max-take (a page-size cap), "
    "unknown-segment-status (404 or 400), seconds-per-1000-rows (slow loads).")

DOCUMENTED_ONLY_OPTION = typer.Option(
    False, "--actito-documented-only",
    help="Actito: answer 501 to every route no public source documents (the request log then "
    "proves a project needs none).")


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    selligent_port: int = typer.Option(selligent_defaults.DEFAULT_PORT, "--selligent-port",
                                       help="Selligent port (0: any free)."),
    data_dir: Path = typer.Option(selligent_defaults.DEFAULT_DATA_DIR,
                                  help="Where the sandboxes keep their data."),
    in_memory: bool = typer.Option(False, help="Keep nothing on disk (forget data on exit)."),
    seed_file: Path | None = SEED_FILE_OPTION,
    seed_column: list[str] = SEED_COLUMN_OPTION,
    latency_ms: float = typer.Option(0.0, help="Added to every answer."),
    error_ratio: float = typer.Option(0.0, help="Share of requests answered 503 (0..1)."),
    drop_ratio: float = typer.Option(0.0, help="Share of connections dropped (0..1)."),
    requests_per_second: float | None = typer.Option(None, help="Above it: 429 (Selligent: "
                                                     "its documented plain-text shape)."),
    selligent_tenant: list[str] = SELLIGENT_TENANT_OPTION,
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
    actito_port: int = typer.Option(8782, "--actito-port", help="Actito API port (0: any)."),
    actito_ftps_port: int = typer.Option(8721, "--actito-ftps-port", help="Actito FTPS port."),
    actito_sftp_port: int = typer.Option(8722, "--actito-sftp-port", help="Actito SFTP port."),
    actito_api_key: str = typer.Option("sandbox-api-key", help="Accepted Actito API key."),
    actito_token_seconds: float = typer.Option(900.0, help="Actito: token lifetime."),
    actito_calls_per_minute: float = typer.Option(100.0, help="Actito: above it, slow down."),
    actito_imports_per_day: int = typer.Option(24, help="Actito: ETL runs per table per day."),
    actito_max_file_mb: float = typer.Option(100.0, help="Actito: file size cap (MB)."),
    actito_documented_only: bool = DOCUMENTED_ONLY_OPTION,
) -> None:
    """Run the local API sandboxes in the foreground until Ctrl-C."""
    faults = Faults(
        latency_ms=latency_ms, error_ratio=error_ratio, drop_ratio=drop_ratio,
        requests_per_second=requests_per_second, max_body_bytes=max_body_bytes,
    )
    directory = None if in_memory else data_dir
    seed = _seed(seed_file, seed_column, directory)
    selligent = _selligent_config(
        host=host, port=selligent_port, data_dir=directory, faults=faults, **seed,
        max_rows_per_load=max_rows_per_load, organization=selligent_org, tenant=selligent_tenant,
        list_api_name=selligent_list, key_field=selligent_key_field, api_key=selligent_api_key)
    actito = _actito_config(
        directory, host=host, port=actito_port, ftps_port=actito_ftps_port,
        sftp_port=actito_sftp_port, api_key=actito_api_key, **seed,
        token_ttl_seconds=actito_token_seconds, calls_per_minute=actito_calls_per_minute,
        bulk_imports_per_day=actito_imports_per_day, documented_only=actito_documented_only,
        max_file_bytes=int(actito_max_file_mb * 1024 * 1024),
        latency_ms=latency_ms, error_ratio=error_ratio, drop_ratio=drop_ratio)
    with user_errors():  # a bad row of the seed file shows when a sandbox is seeded
        _serve([lambda: _start_selligent(selligent), lambda: _start_actito(actito)])


def _seed(seed_file: Path | None, pairs: list[str], directory: Path | None) -> dict[str, Any]:
    """Both sandboxes' seed settings, checked even when their stores exist already (nothing
    will be seeded): a wrong file is a mistake to report, and a file asked for but not loaded
    is said."""
    columns = _seed_columns(pairs)
    with user_errors():
        path = seed_file if seed_file is not None else example_seed_file()
        check_seed_file(path, columns)
    kept = [directory / name for name in ("selligent", "actito")
            if directory is not None and (directory / name / "store.json").exists()]
    if kept and (seed_file is not None or pairs):
        typer.echo(f"Note: {', '.join(map(str, kept))} hold(s) the data of an earlier run: the "
                   f"seed file is not loaded there (remove it to seed again, or use "
                   "--in-memory).", err=True)
    return {"seed_file": path, "seed_columns": columns}


def _seed_columns(pairs: list[str]) -> dict[str, str]:
    """`--seed-column FIELD=COLUMN` options as {field: column}."""
    columns: dict[str, str] = {}
    for pair in pairs:
        name, equals, column = pair.partition("=")
        if not equals or not name.strip() or not column.strip():
            raise typer.BadParameter(f"expected FIELD=COLUMN, got {pair!r}",
                                     param_hint="--seed-column")
        columns[name.strip()] = column.strip()
    unknown = unknown_fields(columns)
    if unknown:
        raise typer.BadParameter(f"unknown field {unknown[0]!r}; the fields are: "
                                 f"{', '.join(SEED_FIELDS)}", param_hint="--seed-column")
    return columns


def _actito_config(directory: Path | None, **settings: Any) -> ActitoSandboxConfig:
    """The Actito sandbox's settings; in memory, its transfer files go to a temp folder."""
    return ActitoSandboxConfig(
        data_dir=directory or Path(tempfile.mkdtemp(prefix="actito-sandbox-")),
        persist=directory is not None, **settings)


def _selligent_config(*, api_key: str, tenant: Sequence[str] = (),
                      **settings: Any) -> SelligentSandboxConfig:
    """The Selligent sandbox's settings; `api_key` is the accepted `key:secret`, `tenant`
    the --selligent-tenant KNOB=VALUE pairs."""
    if ":" not in api_key:
        raise typer.BadParameter("expected key:secret", param_hint="--selligent-api-key")
    for pair in tenant:
        knob, _, text = pair.partition("=")
        if knob not in SELLIGENT_TENANT or not text:
            raise typer.BadParameter(f"{pair!r}: expected KNOB=VALUE, KNOB one of "
                                     f"{', '.join(SELLIGENT_TENANT)}",
                                     param_hint="--selligent-tenant")
        name, kind = SELLIGENT_TENANT[knob]
        try:
            value = kind(text)
        except ValueError as exc:
            raise typer.BadParameter(f"{pair!r}: {text!r} is not a number",
                                     param_hint="--selligent-tenant") from exc
        off = name in ("requests_per_minute", "inbound_limit_seconds") and value == 0
        settings[name] = None if off else value
    return SelligentSandboxConfig(accounts=[ServiceAccount.parse(api_key)], **settings)
