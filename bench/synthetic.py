"""The plan benchmark's synthetic world: a warehouse, a state snapshot, a destination's keys.

Owns generating, once per size and inside one directory, everything a plan reads:
- `warehouse.duckdb`: table `customers` of 1.1 × size rows; the `consenting` segment keeps
  exactly `size` of them (every 11th row does not consent);
- `contacts.parquet`: the keys the destination knows: every customer but ~3%;
- `state.duckdb`: the snapshot of the last apply, written through the real state writer:
  the matched audience with 1% churn (0.5% of it missing → adds, 0.5% extra keys of
  non-consenting customers → removes) and ~1% of attribute hashes changed (→ updates);
- `manifests/`: a Source, a Model, a Segment, a Destination and an Activation over them.
Expected change counts are computed by plain SQL here, so a run can check the plan's.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from reconciler.manifests.conditions import Predicate
from reconciler.manifests.models import FieldType, ModelSpec
from reconciler.sources import AudienceField, AudienceSpec, hash_format, materialize_audience
from reconciler.sources.duckdb_source import DuckDBWarehouse
from reconciler.state import LATEST_VERSION, open_state_store

ACTIVATION = "bench-activation"
DESTINATION = "bench-destination"
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
_PERMUTE = 7919  # prime, coprime with 11 × 10^k: keys are a shuffled 0..rows-1
_SPEC_FILE = "dataset.json"


@dataclass(frozen=True)
class Dataset:
    """One generated size: where its files are and the plan it must produce."""

    directory: Path
    size: int
    rows: int
    expected: dict[str, int]

    @property
    def warehouse(self) -> Path:
        return self.directory / "warehouse.duckdb"

    @property
    def contacts(self) -> Path:
        return self.directory / "contacts.parquet"

    @property
    def state(self) -> Path:
        return self.directory / "state.duckdb"

    @property
    def manifests(self) -> Path:
        return self.directory / "manifests"


def audience_spec() -> AudienceSpec:
    """The activation's audience as the planner builds it from the manifests below."""
    return AudienceSpec(
        activation=ACTIVATION,
        model=ModelSpec(source="warehouse", table="customers"),
        match_key="customer_id",
        fields=(AudienceField("email", "EMAIL", FieldType.STRING),
                AudienceField("ltv", "LTV", FieldType.DECIMAL),
                AudienceField("signup", "SIGNUP_DATE", FieldType.DATE)),
        segment="consenting",
        where=Predicate.model_validate({"column": "consent", "eq": True}),
    )


def generate(directory: Path, size: int) -> Dataset:
    """Build (or reuse, when already built for this size) the dataset in `directory`."""
    spec_file = directory / _SPEC_FILE
    if spec_file.is_file():
        saved = json.loads(spec_file.read_text("utf-8"))
        if saved["size"] == size and saved.get("state_version") == LATEST_VERSION:
            return Dataset(directory, size, saved["rows"], saved["expected"])
    if size <= 0 or size % 10:
        raise ValueError(f"a benchmark size is a positive multiple of 10 (got {size})")
    directory.mkdir(parents=True, exist_ok=True)
    for name in (_SPEC_FILE, "warehouse.duckdb", "contacts.parquet", "state.duckdb"):
        (directory / name).unlink(missing_ok=True)
    rows = size // 10 * 11
    _write_warehouse(directory / "warehouse.duckdb", rows)
    with duckdb.connect() as conn:
        conn.execute("SET enable_progress_bar = false")
        conn.execute(f"ATTACH '{directory / 'warehouse.duckdb'}' AS wh (READ_ONLY)")
        _write_contacts(conn, directory / "contacts.parquet")
        expected = _write_snapshot(conn, directory)
    _write_manifests(directory / "manifests")
    dataset = Dataset(directory, size, rows, expected)
    saved = {k: v for k, v in asdict(dataset).items() if k != "directory"}
    spec_file.write_text(json.dumps({**saved, "state_version": LATEST_VERSION}), "utf-8")
    return dataset


def _write_warehouse(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET enable_progress_bar = false")
        conn.execute(f"""
            CREATE TABLE customers AS
            SELECT printf('C%010d', (i * {_PERMUTE}) % {rows}) AS customer_id,
                   'user' || i || '@example.com' AS email,
                   round(((i * 37) % 100000) / 100.0, 2) AS ltv,
                   DATE '2020-01-01' + CAST(i % 2000 AS INTEGER) AS signup,
                   i % 11 <> 10 AS consent
            FROM range({rows}) AS t(i)""")


def _write_contacts(conn: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Every customer key but ~3% (whatever their consent): the destination's contacts."""
    conn.execute(f"""
        COPY (SELECT customer_id AS member_key FROM wh.customers
              WHERE hash(customer_id || '#contact') % 100 >= 3)
        TO '{out}' (FORMAT parquet)""")


def _write_snapshot(conn: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """The last apply's snapshot with churn, through the real writer; the expected counts."""
    with DuckDBWarehouse("warehouse", database=directory / "warehouse.duckdb") as source:
        materialize_audience(source, audience_spec(), conn, "desired", now=NOW)
    conn.execute(f"""
        CREATE TABLE matched AS SELECT d.member_key, d.attributes_hash,
               hash(member_key || '#churn') % 200 = 0 AS churned,
               hash(member_key || '#edit') % 100 = 0 AS edited
        FROM desired AS d
        SEMI JOIN read_parquet('{directory / "contacts.parquet"}') AS c USING (member_key)""")
    conn.execute("""
        CREATE TABLE snapshot AS
        SELECT member_key,
               CASE WHEN edited THEN CAST(0 AS UBIGINT) ELSE attributes_hash END
                 AS attributes_hash
        FROM matched WHERE NOT churned
        UNION ALL
        SELECT customer_id, CAST(0 AS UBIGINT) FROM wh.customers
        WHERE NOT consent AND hash(customer_id || '#left') % 20 = 0""")
    store = open_state_store(directory / "state.duckdb")
    try:
        store.write_snapshot_from_duckdb(ACTIVATION, conn, "snapshot", taken_at=NOW,
                                         hash_format=hash_format(conn))
    finally:
        store.close()
    row = conn.execute("""
        SELECT (SELECT count(*) FROM desired), count(*), count(*) FILTER (WHERE churned),
               (SELECT count(*) FROM wh.customers
                WHERE NOT consent AND hash(customer_id || '#left') % 20 = 0),
               count(*) FILTER (WHERE churned OR edited)
        FROM matched""").fetchone()
    assert row is not None
    return dict(zip(("desired", "matched", "adds", "removes", "updates"), row, strict=True))


DUCKDB_SOURCE = "spec: {type: duckdb, path: ../warehouse.duckdb}"
MANIFESTS = """\
apiVersion: reconciler/v1
kind: Source
metadata: {name: warehouse}
spec: {type: duckdb, path: ../warehouse.duckdb}
---
apiVersion: reconciler/v1
kind: Model
metadata: {name: customers}
spec: {source: warehouse, table: customers}
---
apiVersion: reconciler/v1
kind: Segment
metadata: {name: consenting}
spec:
  model: customers
  where: {column: consent, eq: true}
---
apiVersion: reconciler/v1
kind: Destination
metadata: {name: DESTINATION}
spec:
  type: selligent
  baseUrl: http://127.0.0.1:9/Portal/Api
  organization: BENCH
  list: CONTACTS
  credentials: {apiKey: "${env:BENCH_API_KEY}", apiSecret: "${env:BENCH_API_SECRET}"}
---
apiVersion: reconciler/v1
kind: Activation
metadata: {name: ACTIVATION}
spec:
  segment: consenting
  destination: DESTINATION
  audienceName: Bench audience
  matchKey: {source: customer_id, destination: EXTERNAL_ID}
  fields:
    - {source: email, destination: EMAIL, type: string}
    - {source: ltv, destination: LTV, type: decimal}
    - {source: signup, destination: SIGNUP_DATE, type: date}
  schedule: manual
"""


def _write_manifests(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = MANIFESTS.replace("DESTINATION", DESTINATION).replace("ACTIVATION", ACTIVATION)
    (directory / "bench.yaml").write_text(text, "utf-8")
