"""Attribute updates of several activations on one table: one CSV per execution, shared only
by activations with the same key and columns; no activation's empty cell blanks another's."""
from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from reconciler.changes.imports import ImportTarget
from reconciler.changes.tables import DiffTables
from reconciler.destinations.actito.writer import ActitoWriter
from reconciler.destinations.base import UpdateShare, WriteResult
from reconciler.executing.importbudget import import_groups, sends_updates
from reconciler.manifests.models import (
    DeletionPolicy,
    EmptyValues,
    FieldMapping,
    MatchKey,
    Warnings,
)
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.plan import ActivationPlan, AttributeChange
from reconciler.sandbox.actito import ActitoSandbox
from reconciler.sandbox.actito.etl import split_multipart
from reconciler.sandbox.http import Request
from tests.destinations.actito.conftest import make_adapter, profile

KEY = MatchKey(source="customer_id", destination="customerId")
TABLE = ImportTarget("sandbox@sandbox", "Profiles", 24)


def activation(name: str, *fields: str, **extra: object) -> EffectiveActivation:
    return EffectiveActivation(
        name=name, destination="actito", destination_type="actito", segment=name, model=None,
        audience_name=name, description=None, match_key=KEY,
        fields=tuple(FieldMapping(source=f, destination=f) for f in fields), schedule="manual",
        warnings=Warnings(), deletion_policy=DeletionPolicy.KEEP, validity_period=None,
        **extra)  # type: ignore[arg-type]


def share(conn: duckdb.DuckDBPyConnection, settings: EffectiveActivation,
          rows: list[tuple[str, ...]]) -> UpdateShare:
    tables = DiffTables(settings.name.replace("-", "_"))
    columns = ", ".join(f'"{f.destination}" VARCHAR' for f in settings.fields)
    conn.execute(f'CREATE TABLE "{tables.updates}" (member_key VARCHAR, {columns})')
    marks = ", ".join("?" for _ in range(len(settings.fields) + 1))
    conn.executemany(f'INSERT INTO "{tables.updates}" VALUES ({marks})', rows)
    return UpdateShare(settings, tables, len(rows))


def capture_files(sandbox: ActitoSandbox) -> list[list[str]]:
    """The CSV entries of every ETL file posted from now on, by name."""
    seen: list[list[str]] = []

    def keep(request: Request) -> None:
        if request.method == "POST" and "/mass-imports/" in request.path:
            data = split_multipart(request)["inputFile"]
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                seen.append(archive.namelist())

    sandbox.faults.before_answer = keep
    return seen


def send(writer: ActitoWriter, conn: duckdb.DuckDBPyConnection, shares: list[UpdateShare],
         folder: Path) -> tuple[WriteResult, int]:
    """What the executor does with one import group: its files, run one by one."""
    total, started = WriteResult(0, 0), []
    for part in writer.prepare_import(shares, conn, folder):
        total = total.plus(writer.run_import_file(part, shares, started.append))
    return total, len(started)


def test_activations_with_other_columns_get_an_execution_each(sandbox: ActitoSandbox,
                                                              tmp_path: Path) -> None:
    # Scenario: one sets firstName (NULL for C000001: an empty cell), the other lastName; they
    # are two groups, two executions of one CSV each; C000001's lastName is the other's value.
    conn = duckdb.connect()
    first, last = activation("first", "firstName"), activation("last", "lastName")
    settings = {"first": first, "last": last}
    planned = [ActivationPlan(activation=n, destination="actito", destination_type="actito",
                              target="t", remote_name=n,
                              attributes=AttributeChange(updates=2, fields=()))
               for n in settings]
    groups = import_groups(planned, {n: TABLE for n in settings}, settings, sends_updates)
    assert [(g.activations, g.columns) for g in groups] == [
        (("first",), ("firstName",)), (("last",), ("lastName",))]
    shares = {"first": share(conn, first, [("C000001", None), ("C000002", "Bo")]),
              "last": share(conn, last, [("C000001", "Zed"), ("C000003", "Yu")])}
    before = profile(sandbox, "C000002")
    files = capture_files(sandbox)
    writer = ActitoWriter(make_adapter(sandbox))
    executions = [send(writer, conn, [shares[n] for n in g.activations], tmp_path / str(i))
                  for i, g in enumerate(groups)]
    assert [(r.sent, r.applied, started) for r, started in executions] == [(2, 2, 1),
                                                                           (2, 2, 1)]
    assert [len(names) for names in files] == [1, 1]
    both = profile(sandbox, "C000001")
    assert both is not None and (both["firstName"], both["lastName"]) == (None, "Zed")
    only_first = profile(sandbox, "C000002")
    assert only_first is not None and only_first["firstName"] == "Bo"
    assert before is not None and only_first["lastName"] == before["lastName"]


def test_activations_with_the_same_columns_share_one_csv(sandbox: ActitoSandbox,
                                                         tmp_path: Path) -> None:
    # Scenario: two audiences map firstName; C000001 is in both with the same value: one
    # execution, one CSV, the shared profile's line once.
    conn = duckdb.connect()
    one = share(conn, activation("one", "firstName"), [("C000001", "Ann"), ("C000002", "Bo")])
    two = share(conn, activation("two", "firstName"), [("C000001", "Ann"), ("C000003", "Cy")])
    files = capture_files(sandbox)
    result, started = send(ActitoWriter(make_adapter(sandbox)), conn, [one, two], tmp_path)
    assert started == 1 and files == [["data.csv"]]
    execution = next(e.response_json() for e in reversed(sandbox.log.entries())
                     if "/etl-executions/" in e.path)
    assert execution["counters"]["totalLines"] == 3
    assert (result.sent, result.applied, result.rejected) == (3, 3, 0)
    assert [profile(sandbox, k)["firstName"] for k in ("C000001", "C000002", "C000003")] == [  # type: ignore[index]
        "Ann", "Bo", "Cy"]


def test_empty_values_skip_never_sends_an_empty_cell(sandbox: ActitoSandbox,
                                                     tmp_path: Path) -> None:
    # Scenario: emptyValues: skip; C000001 loses its lastName in the warehouse, C000002 both
    # values: C000001's firstName is updated and its lastName kept, C000002 is not sent.
    conn = duckdb.connect()
    settings = activation("names", "firstName", "lastName", empty_values=EmptyValues.SKIP)
    rows = [("C000001", "Ann", None), ("C000002", None, ""), ("C000003", "Cy", "Dee")]
    before = [profile(sandbox, k) for k in ("C000001", "C000002")]
    files = capture_files(sandbox)
    result, started = send(ActitoWriter(make_adapter(sandbox)), conn,
                           [share(conn, settings, rows)], tmp_path)
    assert started == 2 and len(files) == 2 and result.rejected == 0
    kept, untouched = profile(sandbox, "C000001"), profile(sandbox, "C000002")
    assert kept is not None and before[0] is not None
    assert (kept["firstName"], kept["lastName"]) == ("Ann", before[0]["lastName"])
    assert untouched == before[1]
    assert profile(sandbox, "C000003")["lastName"] == "Dee"  # type: ignore[index]


class _Journal:
    class _Handle:
        def confirm(self, rows: int) -> None:
            self.rows = rows

    @contextlib.contextmanager
    def batch(self, *_args: Any) -> Iterator[_Handle]:
        yield self._Handle()


def test_an_activation_of_its_own_goes_through_apply_updates(sandbox: ActitoSandbox) -> None:
    # Scenario: the writer's single-activation path sends the same one-CSV import.
    conn = duckdb.connect()
    one = share(conn, activation("solo", "firstName"), [("C000001", "Solo")])
    result = ActitoWriter(make_adapter(sandbox)).apply_updates(
        one.activation, conn, one.tables, _Journal())  # type: ignore[arg-type]
    assert (result.sent, result.applied) == (1, 1)
    assert profile(sandbox, "C000001")["firstName"] == "Solo"  # type: ignore[index]
