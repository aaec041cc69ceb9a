"""What a plan costs at the destination, with the contact index kept in the state store.

    .venv/bin/python -m bench.observe                   # 10M contacts, 1M members
    .venv/bin/python -m bench.observe --quick           # 100k contacts, 10k members
    .venv/bin/python -m bench.observe --contacts 2m --members 200k

Per destination (Selligent, Actito) it plans three times, each in this process with the real
index code (`planning/keyindex.py`) and a real DuckDB state store: the first plan (empty
state: a full read), a steady plan after a round of 1% churn of the audience (most joiners
existing contacts, `--created` new contacts that join too), and the same with `--refresh`.

The destination is modelled, not served over HTTP (`observe_http.py` serves the sandboxes):
its keys are a DuckDB table generated in seconds, and
every call it answers costs the time the documented limits and a 20 ms latency allow:
`max(60 / requests_per_minute, latency / in_flight)` a call (Selligent: 2,500 a minute per
key, 4 page reads in flight; Actito: 100 a minute per licence, 5 in flight), at the full
budget (`budgetShare: 1`, no other integration on the key). Actito's full read is the
documented daily export, a real CSV of every key parsed by the export reader's own code
(no call; its download is not modelled). A plan's time is its measured code time plus that
modelled API time (the modelled server's own reads of its key table are left out of the
code time: they are inside its latency); its share of the daily budget is its calls over a
day's calls. Code and API time are added, though paging overlaps them in production.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb

from bench.plan import parse_size
from reconciler.destinations.actito.exports import ExportReader, ProfileExport
from reconciler.destinations.actito.transfer import FileTransferSettings, TransferProtocol
from reconciler.destinations.keyindex import FullRead
from reconciler.planning.keyindex import ContactIndexes, IndexContext
from reconciler.planning.render import describe_index
from reconciler.state import open_state_reader, open_state_store

NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
EXPORT_PATTERN = "profiles_$yyyyMMdd.csv"


@dataclass(frozen=True)
class Limits:
    """A destination's documented limits and how this tool reads it."""

    name: str
    per_minute: int
    in_flight: int
    page_size: int = 1000
    export: bool = False  # the full read is the documented daily export file

    def seconds(self, calls: int, latency: float) -> float:
        return calls * max(60.0 / self.per_minute, latency / self.in_flight)

    @property
    def daily(self) -> int:
        return self.per_minute * 1440


SELLIGENT = Limits("selligent", per_minute=2500, in_flight=4)
ACTITO = Limits("actito", per_minute=100, in_flight=5, export=True)
LIMITS = {limits.name: limits for limits in (SELLIGENT, ACTITO)}


class ModelledDestination:
    """`IndexedContacts` over the `contacts` table of a DuckDB file, every call costed."""

    def __init__(self, database: Path, limits: Limits, latency: float, export: Path) -> None:
        self.conn = duckdb.connect(str(database), read_only=True)
        self.limits, self.latency, self.export = limits, latency, export
        self.calls_sent, self.api_seconds = 0, 0.0
        self.server_seconds = 0.0  # the modelled server's own work: inside its latency

    def _serve(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        started = time.perf_counter()
        rows = self.conn.execute(sql, params).fetchall()
        self.server_seconds += time.perf_counter() - started
        return rows

    def _spend(self, calls: int) -> None:
        self.calls_sent += calls
        self.api_seconds += self.limits.seconds(calls, self.latency)

    def _count(self) -> int:
        return int(self._serve("SELECT count(*) FROM contacts")[0][0])

    def index_scope(self, activation: Any) -> str:
        return "table Profiles" if self.limits.export else "list CONTACTS"

    def count_contacts(self, activation: Any) -> int | None:
        if self.limits.export:  # as the Actito adapter: the export is the count's stand-in
            return None
        self._spend(1)
        return self._count()

    def full_read(self, activation: Any) -> FullRead:
        if self.limits.export:
            return FullRead(pages=1, calls=0, file=EXPORT_PATTERN)
        pages = max(1, -(-self._count() // self.limits.page_size))
        return FullRead(pages=pages, calls=pages)

    def iter_all_keys(self, activation: Any) -> Iterator[list[str]]:
        if self.limits.export:
            reader = ExportReader(ProfileExport(EXPORT_PATTERN, "/", dt.timedelta(hours=36)),
                                  FileTransferSettings(TransferProtocol.FTPS, "bench", 21,
                                                       "bench", "-", "/"))
            # Downloaded already (made at midnight of the plan's day): parse it.
            reader._file = (f"profiles_{NOW:%Y%m%d}.csv", self.export)
            yield from reader.keys("customerId", NOW)
            return
        cursor = self.conn.execute("SELECT member_key FROM contacts")
        while True:
            started = time.perf_counter()
            rows = cursor.fetchmany(self.limits.page_size)
            page = [str(row[0]) for row in rows]
            self.server_seconds += time.perf_counter() - started
            if not page:
                return
            self._spend(1)
            yield page

    def file_read(self) -> tuple[str, dt.datetime] | None:
        return (f"profiles_{NOW:%Y%m%d}.csv", NOW.replace(hour=0)) if self.limits.export else None

    def check_keys(self, activation: Any, keys: Sequence[str]) -> list[str]:
        self._spend(len(keys))
        rows = self._serve("SELECT member_key FROM contacts WHERE member_key IN "
                           "(SELECT unnest(?::VARCHAR[]))", [list(keys)])
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        self.conn.close()


@dataclass(frozen=True)
class PlanCost:
    what: str
    code_seconds: float
    api_seconds: float
    requests: int
    matched: int
    said: str

    @property
    def seconds(self) -> float:
        return self.code_seconds + self.api_seconds


def generate(directory: Path, contacts: int, members: int, created: int) -> None:
    """Round 0 and round 1 (1% churn, `created` new contacts joining) as DuckDB files."""
    step = max(1, contacts // members)
    for round_no in (0, 1):
        with duckdb.connect(str(directory / f"round{round_no}.duckdb")) as conn:
            new = created if round_no else 0
            conn.execute(f"""CREATE TABLE contacts AS
                SELECT 'c' || lpad(CAST(i AS VARCHAR), 9, '0') AS member_key
                FROM range({contacts}) t(i)
                UNION ALL SELECT 'n' || lpad(CAST(i AS VARCHAR), 9, '0') FROM range({new}) t(i)""")
            churn = members // 100 if round_no else 0
            # Members: every `step`-th contact (97%) and 3% keys no contact has; round 1 drops
            # the first 1% and takes as many other contacts (and the new ones).
            conn.execute(f"""CREATE TABLE audience AS
                SELECT 'c' || lpad(CAST(i * {step} AS VARCHAR), 9, '0') AS member_key
                FROM range({churn}, {members * 97 // 100}) t(i)
                UNION ALL SELECT 'c' || lpad(CAST(i * {step} + 1 AS VARCHAR), 9, '0')
                FROM range({churn}) t(i)
                UNION ALL SELECT 'u' || lpad(CAST(i AS VARCHAR), 9, '0')
                FROM range({members - members * 97 // 100}) t(i)
                UNION ALL SELECT 'n' || lpad(CAST(i AS VARCHAR), 9, '0') FROM range({new}) t(i)""")
            conn.execute(f"""COPY (SELECT member_key AS customerId FROM contacts)
                TO '{directory / f"export{round_no}.csv"}' (HEADER, DELIMITER ';')""")


def plan_once(directory: Path, state: Path, limits: Limits, round_no: int, what: str,
              now: dt.datetime, refresh: bool, latency: float) -> PlanCost:
    """One plan's index read (and its write back to the state), timed and costed."""
    database = directory / f"round{round_no}.duckdb"
    destination = ModelledDestination(database, limits, latency,
                                      directory / f"export{round_no}.csv")
    try:
        seconds, matched, said = index_plan(database, state, destination, limits.name, now,
                                            refresh)
    finally:
        destination.close()
    code = seconds - destination.server_seconds
    return PlanCost(what, code, destination.api_seconds, destination.calls_sent, matched, said)


def index_plan(database: Path, state: Path, destination: Any, name: str, now: dt.datetime,
               refresh: bool, key_field: str = "customerId") -> tuple[float, int, str]:
    """The real index code's read of `destination` for the audience of `database`, written
    back to the state store: its wall time, the members matched, what the plan says."""
    settings = SimpleNamespace(name="audience", destination=name,
                               match_key=SimpleNamespace(destination=key_field))
    started = time.perf_counter()
    conn = duckdb.connect()
    conn.execute("CREATE TABLE desired (member_key VARCHAR)")
    conn.execute(f"ATTACH '{database}' AS source (READ_ONLY)")
    conn.execute("INSERT INTO desired SELECT member_key FROM source.audience")
    conn.execute("DETACH source")
    with open_state_reader(state) as reader:
        indexes = ContactIndexes(IndexContext(reader, now, lambda _d: dt.timedelta(hours=24),
                                              refresh), conn)
        read = indexes.load(settings, destination, "contacts", "desired")  # type: ignore[arg-type]
    matched = int(conn.execute("SELECT count(*) FROM desired SEMI JOIN contacts "
                               "USING (member_key)").fetchall()[0][0])
    with open_state_store(state) as store:
        for write in indexes.writes():
            store.write_contact_index(write.info, conn, write.table, full=write.full)
    conn.close()
    return time.perf_counter() - started, matched, describe_index(read, now)


def run_destination(directory: Path, limits: Limits, latency: float,
                    emit: Any = print) -> dict[str, PlanCost]:
    state = directory / f"state-{limits.name}.duckdb"
    open_state_store(state).close()
    costs = {
        "first": plan_once(directory, state, limits, 0, "first plan (empty state)", NOW,
                           False, latency),
        "steady": plan_once(directory, state, limits, 1, "steady plan (1% churn)",
                            NOW + dt.timedelta(hours=1), False, latency),
        "refresh": plan_once(directory, state, limits, 1, "plan with --refresh",
                             NOW + dt.timedelta(hours=2), True, latency),
    }
    for cost in costs.values():
        emit(f"{limits.name:<9} {cost.what:<25} {cost.seconds:>9.1f} s  (code "
             f"{cost.code_seconds:.1f} s, API {cost.api_seconds:.1f} s)  {cost.requests:>7,} "
             f"requests  {100 * cost.requests / limits.daily:6.3f}% of daily budget  "
             f"matched {cost.matched:,}")
        emit(f"{'':<9}   {cost.said}")
    return costs


@contextlib.contextmanager
def generated(contacts: int, members: int, created: int, latency: float, emit: Any,
              served: str = "") -> Iterator[Path]:
    """A temporary folder holding both rounds (`generate`), announced with the sizes."""
    with tempfile.TemporaryDirectory(prefix="reconciler-observe-") as folder:
        directory = Path(folder)
        started = time.perf_counter()
        generate(directory, contacts, members, created)
        emit(f"{contacts:,} contacts, {members:,} members, 1% churn, {created:,} new "
             f"contacts joining; {latency * 1000:.0f} ms latency; {served}generated in "
             f"{time.perf_counter() - started:.1f} s")
        yield directory


def summarize(results: dict[str, dict[str, PlanCost]], emit: Any) -> None:
    """The last lines: each destination's steady plan against its daily budget."""
    for name, costs in results.items():
        steady = costs["steady"]
        emit(f"observe: {name} steady plan {steady.seconds:.1f} s, {steady.requests:,} "
             f"requests, {100 * steady.requests / LIMITS[name].daily:.3f}% of daily budget")


def run(contacts: int, members: int, created: int, latency: float = 0.020,
        emit: Any = print) -> dict[str, dict[str, PlanCost]]:
    """Generate, then plan against both destinations; per destination, its plans' costs."""
    with generated(contacts, members, created, latency, emit) as directory:
        results = {limits.name: run_destination(directory, limits, latency, emit)
                   for limits in (SELLIGENT, ACTITO)}
    summarize(results, emit)
    return results


def sizes(prog: str, doc: str | None, argv: Sequence[str] | None) -> tuple[int, int, int, float]:
    """The command line both observe benches take: contacts, members, created, latency."""
    parser = argparse.ArgumentParser(prog=prog, description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", default="10m", help="contacts at the destination")
    parser.add_argument("--members", default="1m", help="members of the audience")
    parser.add_argument("--created", default=None,
                        help="new contacts created in the churn round, all joining the "
                        "audience (default: 0.005%% of the members)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per call")
    parser.add_argument("--quick", action="store_true", help="100k contacts, 10k members")
    args = parser.parse_args(argv)
    contacts, members = parse_size(args.contacts), parse_size(args.members)
    if args.quick:
        contacts, members = 100_000, 10_000
    created = parse_size(args.created) if args.created else max(1, members // 20_000)
    return contacts, members, created, args.latency


def main(argv: Sequence[str] | None = None) -> int:
    run(*sizes("python -m bench.observe", __doc__, argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
