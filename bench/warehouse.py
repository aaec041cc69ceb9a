"""Benchmark `planIn: local` against `planIn: warehouse` on a PostgreSQL source.

    .venv/bin/python -m bench.warehouse                     # 1M members
    .venv/bin/python -m bench.warehouse --size 10000000     # 10M members
    .venv/bin/python -m bench.warehouse --quick             # 20k (what the test runs)

A schema of its own on `--url` (default `RECONCILER_TEST_POSTGRES_URL`, or the local server
as `postgres`) gets table `customers` (key, email, LTV, signup date, consent; all consenting),
generated in PostgreSQL; the destination knows every key (a Parquet file, `SyntheticObserver`).
A first plan (`planIn: warehouse`, a full read) is "applied" through the real state writer and
the warehouse's row-hash table is recorded as apply records it; then 1% churn in the warehouse
(0.5% of LTVs changed, 0.25% of rows deleted, 0.25% inserted). Then, each in a fresh process,
the real planner plans with `planIn: local` and with `planIn: warehouse`: wall time, Arrow
bytes streamed out of the warehouse (every source read, the reread of the updated rows
included), peak RSS of the planning process (PostgreSQL's own memory not counted), and the
change counts, which must be equal. The schemas are dropped at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
from psycopg import sql

from bench import synthetic
from bench.measure import Result, peak_rss_mb, run_fresh
from bench.observer import SyntheticObserver
from bench.synthetic import ACTIVATION, DESTINATION, NOW
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import effective_activations
from reconciler.planning.planner import Planner, PlanOptions, Workspace
from reconciler.sources import hash_format
from reconciler.sources.postgres_source import PostgresWarehouse
from reconciler.state import open_state_reader, open_state_store

DEFAULT_URL = os.environ.get("RECONCILER_TEST_POSTGRES_URL",
                             "postgresql://postgres@127.0.0.1:5432/test")
URL_ENV = "BENCH_WAREHOUSE_URL"
QUICK_SIZE = 20_000

_SOURCE = ('spec: {type: postgres, url: "${env:BENCH_WAREHOUSE_URL}", searchPath: SCHEMA, '
           "planIn: PLAN_IN, stateSchema: SCHEMA_state}")


def _manifests(root: Path, schema: str, plan_in: str) -> Path:
    directory = root / f"manifests-{plan_in}"
    directory.mkdir(parents=True, exist_ok=True)
    source = _SOURCE.replace("SCHEMA", schema).replace("PLAN_IN", plan_in)
    text = (synthetic.MANIFESTS.replace(synthetic.DUCKDB_SOURCE, source)
            .replace("DESTINATION", DESTINATION).replace("ACTIVATION", ACTIVATION))
    (directory / "bench.yaml").write_text(text, "utf-8")
    return directory


def _seed(url: str, schema: str, size: int, root: Path) -> None:
    """`customers` with `size` consenting rows, made in PostgreSQL; every key a contact."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE customers AS SELECT 'C' || lpad(i::text, 9, '0') AS customer_id, "
            "'c' || i || '@example.com' AS email, round((i %% 5000)::numeric / 3, 2) AS ltv, "
            "DATE '2020-01-01' + (i %% 2000) AS signup, TRUE AS consent "
            "FROM generate_series(1, %s::int) AS i", (size,))
        conn.execute("ANALYZE customers")
    with duckdb.connect() as local:
        local.execute(
            "COPY (SELECT 'C' || lpad(CAST(i AS VARCHAR), 9, '0') AS member_key "
            f"FROM range(1, {int(size) * 2}) AS r(i)) TO "
            f"'{root / 'contacts.parquet'}' (FORMAT parquet)")


def _churn(url: str, schema: str, size: int) -> None:
    """1%: 0.5% of LTVs changed, 0.25% of rows deleted, 0.25% inserted (new keys)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("UPDATE customers SET ltv = ltv + 1 WHERE hashtext(customer_id) % 200 = 0")
        conn.execute("DELETE FROM customers WHERE hashtext(customer_id || 'x') % 400 = 0")
        conn.execute(
            "INSERT INTO customers SELECT 'C' || lpad(i::text, 9, '0'), 'n' || i || "
            "'@example.com', 7, DATE '2024-01-01', TRUE "
            "FROM generate_series(%s::int, %s::int) AS i",
            (size + 1, size + size // 400))
        conn.execute("ANALYZE customers")


def measure(root: str, schema: str, plan_in: str, record: bool = False) -> Result:
    """Plan once (in this fresh process): time, bytes streamed, RSS, counts. `record`: then
    write the plan's members as the applied snapshot, and the warehouse's row hashes."""
    moved = [0]
    original = PostgresWarehouse.stream

    def counted(self: PostgresWarehouse, query: Any, **kwargs: Any) -> pa.RecordBatchReader:
        reader = original(self, query, **kwargs)

        def batches() -> Any:
            for batch in reader:
                moved[0] += batch.nbytes
                yield batch
        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    PostgresWarehouse.stream = counted  # type: ignore[method-assign]
    base, workspace = Path(root), Workspace()
    started = time.perf_counter()
    try:
        with contextlib.closing(open_state_reader(base / "state.duckdb")) as reader:
            project = load_project(_manifests(base, schema, plan_in))[0]
            observers = {DESTINATION: SyntheticObserver(base / "contacts.parquet")}
            with contextlib.closing(Planner(project, effective_activations(project), reader,
                                            observers, workspace)) as planner:
                plan = planner.build_plan(PlanOptions(now=NOW))
        seconds = time.perf_counter() - started
        activation = plan.activations[0]
        if activation.error or activation.members is None:
            raise RuntimeError(f"the benchmark's plan failed: {activation.error}")
        if record:
            _record(workspace, base / "state.duckdb")
    finally:
        workspace.close()
    m = activation.members
    counts = {"desired": m.desired, "adds": m.adds, "removes": m.removes,
              "updates": activation.attributes.updates if activation.attributes else 0}
    return {"seconds": seconds, "moved_mb": moved[0] / 1e6, "peak_rss_mb": peak_rss_mb(),
            "counts": counts, "warnings": list(activation.warnings)}


def _record(workspace: Workspace, state: Path) -> None:
    """What apply records: the plan's members as the snapshot, then the row hashes."""
    store = open_state_store(state)
    try:
        members = workspace.tables_of(ACTIVATION).members
        store.write_snapshot_from_duckdb(ACTIVATION, workspace.conn, members, taken_at=NOW,
                                         hash_format=workspace.hash_format)
        workspace.record_warehouse(ACTIVATION, store.snapshot_info(ACTIVATION), members)
    finally:
        store.close()


def _own_the_list(state: Path) -> None:
    """An empty snapshot: the (synthetic) list is the activation's, from before the bench."""
    store = open_state_store(state)
    try:
        with duckdb.connect() as conn:
            conn.execute("CREATE TABLE empty (member_key VARCHAR, attributes_hash UBIGINT)")
            store.write_snapshot_from_duckdb(ACTIVATION, conn, "empty", taken_at=NOW,
                                             hash_format=hash_format(conn))
    finally:
        store.close()


def upload_contacts(url: str, schema: str, root: Path) -> tuple[float, float]:
    """What joining with the contact index *in the warehouse* would add to every plan: the
    destination's keys sent to PostgreSQL (COPY of their CSV text into an unlogged table, the
    fastest way in). Seconds and MB sent."""
    contacts = root / "contacts.csv"
    with duckdb.connect() as local:
        local.execute(f"COPY (SELECT member_key FROM '{root / 'contacts.parquet'}') "
                      f"TO '{contacts}' (FORMAT csv, HEADER false)")
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        table = sql.Identifier(schema, "contact_index")
        conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} (member_key text)").format(table))
        with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)")
                                            .format(table)) as copy, contacts.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.execute(sql.SQL("ANALYZE {}").format(table))
    return time.perf_counter() - started, contacts.stat().st_size / 1e6


def run(url: str, size: int, timeout: float) -> tuple[Result, Result]:
    """Seed, record a first apply, churn, then plan both ways; (local, warehouse), and the
    cost of sending the contact index to the warehouse (`upload`)."""
    os.environ[URL_ENV] = url
    os.environ.setdefault("BENCH_API_KEY", "unused")
    os.environ.setdefault("BENCH_API_SECRET", "unused")
    schema = f"reconciler_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="reconciler-warehouse-bench-") as root:
        try:
            _seed(url, schema, size, Path(root))
            _own_the_list(Path(root) / "state.duckdb")
            run_fresh(measure, root, schema, "warehouse", True, timeout=timeout)
            _churn(url, schema, size)
            local = run_fresh(measure, root, schema, "local", timeout=timeout)
            warehouse = run_fresh(measure, root, schema, "warehouse", timeout=timeout)
            warehouse["upload"] = upload_contacts(url, schema, Path(root))
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                for name in (schema, f"{schema}_state"):
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(name)))
    if local["counts"] != warehouse["counts"]:
        raise RuntimeError(f"the plans differ: local {local['counts']}, "
                           f"warehouse {warehouse['counts']}")
    return local, warehouse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.warehouse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="audience members")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} members")
    parser.add_argument("--url", default=DEFAULT_URL, help="the PostgreSQL server to use")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    size = QUICK_SIZE if args.quick else args.size
    local, warehouse = run(args.url, size, args.timeout)
    print(f"{os.cpu_count()} CPUs, load average "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    for name, result in (("local", local), ("warehouse", warehouse)):
        counts = ", ".join(f"{k} {v:,}" for k, v in result["counts"].items())
        for warning in result["warnings"]:
            print(f"{name:>9}: warning: {warning}")
        print(f"{name:>9}: {result['seconds']:.1f} s, {result['moved_mb']:.2f} MB moved, "
              f"peak RSS {result['peak_rss_mb']:.0f} MB; {counts}")
    seconds, sent = warehouse["upload"]
    print(f"   upload: the contact index sent to the warehouse for the join there (not done): "
          f"{seconds:.1f} s, {sent:.2f} MB sent")
    print(f"warehouse: {size} local {local['seconds']:.1f} s {local['moved_mb']:.2f} MB moved, "
          f"warehouse {warehouse['seconds']:.1f} s {warehouse['moved_mb']:.2f} MB moved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
