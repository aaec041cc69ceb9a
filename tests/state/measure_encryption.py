"""What state encryption costs for a million members on a DuckDB state (not a test: run
`.venv/bin/python -m tests.state.measure_encryption [MEMBERS]`): the first snapshot write, a
plan's copy of the snapshot beside the audience (10,000 members gone, 10,000 new: only the
gone members' sealed keys are opened), and apply's write from the same workspace (the plan's
keyed hashes and sealed keys reused), plain and encrypted."""
from __future__ import annotations

import base64
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from reconciler.state import open_state_store
from reconciler.state.encryption import StateKey

CHANGED = 10_000


def measure(members: int) -> None:
    key = StateKey.from_text(base64.b64encode(b"m" * 32).decode(), "MEASURE_KEY")
    total = members + CHANGED
    table = pa.table({"member_key": [f"customer{i:08d}@example.com" for i in range(total)],
                      "attributes_hash": [str(i) for i in range(total)]})
    folder = Path(tempfile.mkdtemp(prefix="measure-encryption-"))
    try:
        for label, used in (("plain", None), ("encrypted", key)):
            path, timings = folder / f"{label}.duckdb", []
            with open_state_store(path, key=used) as store:
                start = time.perf_counter()
                store.write_snapshot("a", table.slice(0, members).to_batches(100_000))
                timings.append(time.perf_counter() - start)
            conn = duckdb.connect()
            conn.register("audience", table.slice(CHANGED))
            conn.execute("CREATE TEMP TABLE desired AS SELECT * FROM audience")
            with open_state_store(path, key=used) as store:
                start = time.perf_counter()
                store.copy_snapshot_into("a", conn, "snap", keys_from="desired")
                timings.append(time.perf_counter() - start)
                start = time.perf_counter()
                store.write_snapshot_from_duckdb("a", conn, "desired")
                timings.append(time.perf_counter() - start)
            print(f"{label:9}: first write {timings[0]:5.2f}s; plan's copy {timings[1]:5.2f}s; "
                  f"apply's write {timings[2]:5.2f}s ({members:,} members)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
