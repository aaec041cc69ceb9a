"""The plan benchmark's measurements, each run in a fresh process of its own.

Owns what is timed and how: `measure_floor` (DuckDB scanning the audience query once, every
column of every row read, nothing kept) and `measure_plan` (the real `Planner.build_plan`,
from loading the manifests to the finished Plan), each reporting its process's peak RSS.
`run_fresh` runs one of them in a spawned child with a time limit, so no measurement
inherits another's memory or caches inside the process.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.observer import SyntheticObserver
from bench.synthetic import ACTIVATION, DESTINATION, NOW, audience_spec
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import effective_activations
from reconciler.planning.planner import Planner, PlanOptions, Workspace
from reconciler.sources import KEY_COLUMN, build_audience_query, discover_columns
from reconciler.sources.dialects import DUCKDB
from reconciler.sources.duckdb_source import DuckDBWarehouse
from reconciler.state import open_state_reader

Result = dict[str, Any]


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_floor(directory: str) -> Result:
    """Time one full scan of the audience query in the warehouse: the least a plan must do."""
    spec = audience_spec()
    with DuckDBWarehouse("warehouse", database=Path(directory) / "warehouse.duckdb") as source:
        columns = discover_columns(source, spec.model)
        query = build_audience_query(spec, DUCKDB, now=NOW, columns=columns)
        names = [KEY_COLUMN, *(f.destination for f in spec.fields)]
        # max() of every column reads every value (count() of a column could be answered
        # from statistics), and keeps nothing.
        sink = ", ".join(f"max({DUCKDB.quote(name)})" for name in names)
        started, cpu = time.perf_counter(), cpu_seconds()
        rows = source.connection.execute(
            f"SELECT count(*), {sink} FROM ({query.sql}) AS q", query.params).fetchall()
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": int(rows[0][0]),
            "peak_rss_mb": peak_rss_mb()}


def measure_join(directory: str) -> Result:
    """Time one hash join that any exact plan needs: the audience's keys against the last
    snapshot's, matched both ways (who stays, who left), nothing kept.

    A reference, not a step of the plan: it says how far under the plan's time a plan could
    go on this machine, since a plan must at least scan the audience and match its keys
    against the snapshot's (and against the destination's contacts, and check duplicates).
    """
    spec = audience_spec()
    root = Path(directory)
    with DuckDBWarehouse("warehouse", database=root / "warehouse.duckdb") as source:
        columns = discover_columns(source, spec.model)
        query = build_audience_query(spec, DUCKDB, now=NOW, columns=columns)
        conn = source.connection
        conn.execute(f"ATTACH {DUCKDB.quote_literal(str(root / 'state.duckdb'))} AS state "
                     "(READ_ONLY)")
        key = DUCKDB.quote(KEY_COLUMN)
        started, cpu = time.perf_counter(), cpu_seconds()
        rows = conn.execute(
            f"SELECT count(a.{key}), count(s.member_key) FROM (SELECT {key} FROM ({query.sql}) "
            f"AS q) AS a FULL JOIN (SELECT member_key FROM state.snapshots "
            f"WHERE activation = {DUCKDB.quote_literal(ACTIVATION)}) AS s "
            f"ON a.{key} = s.member_key", query.params).fetchall()
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": int(rows[0][0]),
            "peak_rss_mb": peak_rss_mb()}


def measure_plan(directory: str) -> Result:
    """Time the real planner on the dataset; its counts, to check against the expected ones."""
    root = Path(directory)
    started, cpu = time.perf_counter(), cpu_seconds()
    project, _ = load_project(root / "manifests")
    reader = open_state_reader(root / "state.duckdb")
    workspace = Workspace()
    planner = Planner(project, effective_activations(project), reader,
                      {DESTINATION: SyntheticObserver(root / "contacts.parquet")}, workspace)
    try:
        plan = planner.build_plan(PlanOptions(now=NOW))
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    finally:
        planner.close()
        workspace.close()
        reader.close()
    activation = plan.activations[0]
    if activation.error or activation.members is None:
        raise RuntimeError(f"the benchmark's plan failed: {activation.error}")
    members = activation.members
    counts = {"desired": members.desired, "matched": members.matched, "adds": members.adds,
              "removes": members.removes,
              "updates": activation.attributes.updates if activation.attributes else 0}
    return {"seconds": seconds, "cpu_seconds": cpu, "counts": counts,
            "peak_rss_mb": peak_rss_mb()}


def _child(connection: Connection, function: Callable[..., Result], args: tuple[Any, ...]) -> None:
    # DuckDB draws progress bars on stdout for queries over 2 s; the results go through the
    # pipe, so the child's stdout is silenced to keep the benchmark's table readable.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    try:
        connection.send(("ok", function(*args)))
    except BaseException as exc:  # reported to the parent, which raises it
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def run_fresh(function: Callable[..., Result], *args: Any, timeout: float) -> Result:
    """`function(*args)` in a new spawned process, killed after `timeout` seconds."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sending, function, args), daemon=True)
    process.start()
    sending.close()
    try:
        if not receiving.poll(timeout):
            raise TimeoutError(f"{function.__name__} took more than {timeout:.0f} s")
        status, value = receiving.recv()
    except EOFError:
        status, value = "error", f"the child process died (exit code {process.exitcode})"
    finally:
        if process.is_alive():
            process.join(5)
        if process.is_alive():
            process.kill()
        process.join()
        receiving.close()
    if status != "ok":
        raise RuntimeError(f"{function.__name__}: {value}")
    return dict(value)
