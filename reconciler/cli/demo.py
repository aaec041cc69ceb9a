"""`reconciler demo`: the main job on the embedded defaults, as a finite command.

1. validate the example project; 2. start both sandboxes in process on free ports (seeded from
the example data, ~5% of the customers missing so match rates are realistic); 3. plan;
4. apply; 5. plan again, which is empty. Everything it writes lives under .reconciler/demo/,
reset at each run; the example project itself is never modified.

Without --path it runs the example project shipped with the package (`reconciler/example/` of
an installed wheel, `manifests/` of a source checkout), so it works from any directory.
"""
from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reconciler.cli.app import app, user_errors
from reconciler.cli.manifests import print_problems
from reconciler.cli.plan import load_valid_project
from reconciler.destinations.capabilities import capabilities_of
from reconciler.executing.executor import Outcome
from reconciler.manifests.diagnostics import has_errors
from reconciler.manifests.loading import load_project
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.operations.applying import execute
from reconciler.operations.plans import make_plan
from reconciler.planning.planner import Refresh, Workspace
from reconciler.planning.render import render_text
from reconciler.sandbox.actito import ActitoSandboxConfig
from reconciler.sandbox.example import SEED_FILE, example_project, is_installed_copy
from reconciler.sandbox.project import copy_project_for
from reconciler.sandbox.selligent import SelligentSandboxConfig, start_selligent_sandbox
from reconciler.sandbox.warehouses import POSTGRES_URL_ENV, DemoWarehouse, demo_warehouse

DEMO_DIR = Path(".reconciler") / "demo"


@app.command()
def demo(
    path: Path | None = typer.Option(
        None, "--path", show_default=False,
        help="The example project (its seed file: data/customers.csv). Default: the copy "
        "shipped with the package."),
    work_dir: Path = typer.Option(DEMO_DIR, "--work-dir", help="Where the demo keeps its "
                                  "sandboxes' data and state (reset at each run)."),
    source: DemoWarehouse = typer.Option(
        DemoWarehouse.DUCKDB, "--source", help="The warehouse the example's data is read "
        "from: duckdb (its CSV files), postgres (loaded into --postgres-url), snowflake (a "
        "local emulator started in process)."),
    postgres_url: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres", "--postgres-url",
        envvar=POSTGRES_URL_ENV, show_default=False,
        help="With --source postgres: the server to load the example into (default: the "
        "local server, user postgres)."),
    schema: str = typer.Option("reconciler_demo", "--schema", help="With --source postgres "
                               "or snowflake: the schema (Snowflake: database) the demo "
                               "recreates and fills."),
) -> None:
    """Run the demo: validate, start the sandboxes, plan, apply, plan again (empty)."""
    # Off a terminal (CI logs, pipes) rich would wrap tables at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 160)
    with user_errors(), _project_folder(path) as folder:
        installed = path is None and is_installed_copy(folder)
        # soft_wrap: a path folded over two lines cannot be copied.
        console.print(f"[bold]1. Validate[/bold] {folder}/"
                      + (" (the example shipped with the package)" if installed else ""),
                      soft_wrap=True)
        project, diagnostics = load_project(folder)
        print_problems(diagnostics)
        if has_errors(diagnostics):
            raise typer.Exit(1)
        console.print(activations_table(project))
        warehouse = _DemoWarehouse(source, postgres_url, schema)
        _run(console, folder, work_dir, warehouse, installed=installed)


@contextlib.contextmanager
def _project_folder(path: Path | None) -> Iterator[Path]:
    """`path`, or the example project (shown relative to the current directory if inside)."""
    if path is not None:
        yield path
        return
    with example_project() as example:
        with contextlib.suppress(ValueError):
            example = example.relative_to(Path.cwd())
        yield example


@dataclass(frozen=True)
class _DemoWarehouse:
    kind: DemoWarehouse
    postgres_url: str
    schema: str


def _run(console: Console, path: Path, work_dir: Path, warehouse: _DemoWarehouse, *,
         installed: bool) -> None:
    work_dir = work_dir.resolve()  # the file servers serve absolute home folders
    if work_dir.exists():
        shutil.rmtree(work_dir)
    from reconciler.sandbox.actito import start_actito_sandbox  # the servers: see its __init__

    seed = path.joinpath(*SEED_FILE)
    selligent = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                               seed_file=seed))
    actito = start_actito_sandbox(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=work_dir / "sandbox", seed_file=seed,
        calls_per_minute=None, etl_delay_seconds=0.05, sync_poll_seconds=0.1))
    stack = contextlib.ExitStack()
    try:
        console.print(f"\n[bold]2. Sandboxes[/bold] Selligent {selligent.url}, Actito "
                      f"{actito.url} (FTPS port {actito.ftps.port}), seeded from {seed} with "
                      "~5% of the customers missing")
        project_copy = copy_project_for(path, work_dir / "manifests", selligent, actito)
        where = stack.enter_context(demo_warehouse(
            warehouse.kind, project_copy, postgres_url=warehouse.postgres_url,
            schema=warehouse.schema))
        console.print(f"   Warehouse: {where}", soft_wrap=True)
        project = load_valid_project(project_copy)
        state = str(work_dir / "state.duckdb")
        console.print("\n[bold]3. Plan[/bold]")
        _apply(console, project, state)
        console.print("\n[bold]5. Plan again[/bold]")
        workspace = Workspace()
        try:
            again = make_plan(project, activations=[], refresh=Refresh.MEMBERS, state=state,
                              workspace=workspace).plan
        finally:
            workspace.close()
        typer.echo(render_text(again), nl=False)
        if again.has_changes:
            raise typer.Exit(1)
    finally:
        stack.close()
        selligent.stop()
        actito.stop()
    # The installed example must not be planned in place: plan keeps its state beside the
    # manifests, which would be inside the installation.
    first = f"`cp -r {path} manifests` (your own copy), then " if installed else ""
    target = "manifests" if installed else str(path)
    console.print(f"\nDone. Next: {first}`reconciler sandbox` in one terminal and `reconciler "
                  f"plan {target}` in another; `reconciler show activation NAME` explains each "
                  "setting.", soft_wrap=True)


def _apply(console: Console, project: Project, state: str) -> None:
    workspace = Workspace()
    try:
        planned = make_plan(project, activations=[], refresh=Refresh.NONE, state=state,
                            workspace=workspace)
        typer.echo(render_text(planned.plan), nl=False)
        console.print("\n[bold]4. Apply[/bold] (what `reconciler apply --auto-approve` does)")
        results = execute(project, planned.plan, workspace, state, allow_mass_removal=False,
                          fail_fast=False, planned_serials=planned.fingerprint.state_serials)
    finally:
        workspace.close()
    for result in results:
        typer.echo(f"  {result.activation}: {result.outcome.value}"
                   + (f" — {result.message}" if result.message else ""))
    if any(r.outcome is not Outcome.APPLIED for r in results):
        raise typer.Exit(1)


def activations_table(project: Project) -> Table:
    table = Table(show_lines=False)
    for column in ("activation", "audience", "destination", "remote list", "key", "fields",
                   "schedule"):
        table.add_column(column)
    for name, settings in sorted(effective_activations(project).items()):
        table.add_row(
            name,
            f"segment {settings.segment}" if settings.segment else f"model {settings.model}",
            f"{settings.destination} ({settings.destination_type})",
            _remote_name(settings),
            f"{settings.match_key.source} → {settings.match_key.destination}",
            ", ".join(f.destination + (" (new)" if f.create else "") for f in settings.fields)
            or "-",
            _schedule_text(settings.schedule),
        )
    return table


def _remote_name(settings: EffectiveActivation) -> str:
    declared = capabilities_of(settings.destination_type)
    return declared.describe_list(settings) if declared else settings.audience_name


def _schedule_text(schedule: object) -> str:
    every = getattr(schedule, "every", None)
    if every:
        return f"every {every}"
    cron = getattr(schedule, "cron", None)
    if cron:
        return f"cron {cron} ({getattr(schedule, 'timezone', 'UTC')})"
    return "manual"
