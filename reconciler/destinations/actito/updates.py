"""Attribute updates of existing Actito profiles: UPDATE_ONLY ETL executions, one CSV each.

- **One CSV per execution.** [C] evidence §6: "For each target table, provide one CSV file".
  Every zip written here holds one CSV whose header is the key attribute then the destination
  attributes; a CSV over the size cap goes on in further zips, each its own execution.
- **How an execution starts.** With a predefined ETL (an activation's `etlId`, created once
  in the Actito portal) only the data file is pushed to `…/etls/{etlId}/trigger-execution`
  ([C] route; Actito recommends it for recurring imports). Without one, a one-shot
  `…/etl-executions` carries its own definition ([C] route; [I] the definition's keys, which
  are invented: evidence §6 says they are undocumented).
- **Empty cells.** What Actito does with an empty cell on update is [?] (evidence §6: the
  section is cut off); we assume it clears the attribute. A destination's `emptyValues: skip`
  never sends one: each set of NULL attributes gets a CSV of its own without those columns
  (one execution more each), and a row whose values are all NULL is not sent at all (nothing
  to change). Activations with other columns never share a CSV (executing/importbudget.py),
  so one activation's empty cell never blanks another's attribute.
- **WITH_ERROR** ([C] end status): rejected lines are reported with masked samples and the
  whole execution is `unsettled` (which lines were rejected is [?]); one that ended
  WITH_ERROR with no line counted (the file refused whole) is an error.

No value is ever logged: only counts, ids and attribute names.
"""
from __future__ import annotations

import itertools
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb

from reconciler.destinations.actito.client import ActitoClient
from reconciler.destinations.actito.etlfile import write_zipped_csv
from reconciler.destinations.actito.executions import EtlEnd, end_of, raw_status
from reconciler.destinations.actito.models import UpdateReport
from reconciler.destinations.base import UpdateShare
from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.rows import iter_rows
from reconciler.manifests.models import EmptyValues
from reconciler.masking import mask_in_text

log = logging.getLogger(__name__)
_VIEWS = itertools.count()


class ActitoAdapter(Protocol):
    """What updates need of the adapter (adapter.ActitoAdapter; a protocol: no import
    circle)."""

    client: ActitoClient
    entity: str
    table: str
    max_file_bytes: int
    etl_timeout_seconds: float
    poll_seconds: float


def update_profiles(adapter: ActitoAdapter, key_attribute: str, columns: Sequence[str],
                    rows: Iterable[Sequence[Any]], *, etl_id: str | None = None) -> UpdateReport:
    """Write changed attributes of existing profiles: each row is (key, *values for
    `columns`), None/'' sent as an empty cell. One CSV, as few executions as the size cap
    allows; a key of no profile is rejected by Actito, counted, never created."""
    report = UpdateReport()
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return report
    with tempfile.TemporaryDirectory(prefix="actito-") as folder:
        parts = write_update_files(adapter, Path(folder), [key_attribute, *columns],
                                   itertools.chain([first], iterator))
        for part in parts:
            report = report.merge(run_update_file(adapter, part, key_attribute, etl_id=etl_id))
    return report


def write_update_files(adapter: ActitoAdapter, folder: Path, header: Sequence[str],
                       rows: Iterable[Sequence[Any]], stem: str = "update") -> list[Path]:
    """The zips of one update CSV (`header`: the key first), each one execution."""
    return write_zipped_csv(folder, stem, header, rows, adapter.max_file_bytes)


def run_update_file(adapter: ActitoAdapter, part: Path, key_attribute: str,
                    on_started: Callable[[str], None] | None = None, *,
                    etl_id: str | None = None) -> UpdateReport:
    """One UPDATE_ONLY ETL execution of `part` (the ETL `etl_id` when given, else one-shot),
    waited for; `on_started(id)` as soon as Actito accepted it (it then counts against the
    daily quota whatever happens next). QuotaExceededError when refused for the quota."""
    client, table = adapter.client, adapter.table
    if etl_id is not None:
        execution_id = client.trigger_etl(etl_id, part)
    else:
        # [I] evidence §6: the definition's keys are invented: the route table's template
        # (routes.py: startEtlExecution), replaceable from the manifest (api.routes).
        definition = client.etl_definition(table, key_attribute, [])
        execution_id = client.start_etl(definition, part)
    if on_started is not None:
        on_started(execution_id)
    execution = client.wait_for_etl(execution_id, timeout_seconds=adapter.etl_timeout_seconds,
                                    poll_seconds=adapter.poll_seconds)
    report = UpdateReport().plus(execution)
    if end_of(execution) is EtlEnd.WITH_ERROR:
        via = f" (ETL {etl_id})" if etl_id else ""
        if not report.rejected:
            raise PermanentApiError(
                f"ETL execution {execution_id}{via} on table {table} failed "
                f"({raw_status(execution)})", destination="actito", call="GET etl-execution",
                api_message=mask_in_text("; ".join(map(str, execution.get("errors") or []))))
        samples = "; ".join(f"line {r['line']}: {r['reason']}"
                            for r in report.rejected_lines[:3])
        log.warning("actito ETL execution %s%s on table %s ended %s: %d of %d lines "
                    "rejected (e.g. %s); none of its rows is recorded as applied, so the "
                    "next run sends them again", execution_id, via, table,
                    raw_status(execution), report.rejected, report.lines, samples)
    return report


def write_share_files(adapter: ActitoAdapter, shares: Sequence[UpdateShare],
                      conn: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """The zips of an import shared by activations with the same key and columns (see
    executing/importbudget.py): one CSV of their rows (a profile in several audiences with the
    same values once), under the first activation's column order; with `emptyValues: skip`,
    one CSV per set of NULL attributes, without them."""
    first = shares[0].activation
    key, columns = first.match_key.destination, [f.destination for f in first.fields]
    projection = ", ".join(["member_key", *(repr_ident(c) for c in columns)])
    union = f"__update_csv_{next(_VIEWS)}"
    conn.execute(f'CREATE OR REPLACE TEMP VIEW "{union}" AS ' + " UNION ".join(
        f'SELECT {projection} FROM "{s.tables.updates}"' for s in shares))
    try:
        parts: list[Path] = []
        for number, (kept, where) in enumerate(_csv_selections(conn, union, columns,
                                                               first.empty_values), start=1):
            view = f"{union}_{number}"
            conn.execute(f'CREATE OR REPLACE TEMP VIEW "{view}" AS SELECT '
                         f'{", ".join(["member_key", *(repr_ident(c) for c in kept)])} '
                         f'FROM "{union}" WHERE {where}')
            parts += write_update_files(adapter, folder, [key, *kept],
                                        iter_rows(conn, view, ["member_key", *kept]),
                                        stem=f"update-{number}")
            conn.execute(f'DROP VIEW IF EXISTS "{view}"')
        return parts
    finally:
        conn.execute(f'DROP VIEW IF EXISTS "{union}"')


def run_share_file(adapter: ActitoAdapter, part: Path, shares: Sequence[UpdateShare],
                   on_started: Callable[[str], None]) -> UpdateReport:
    """One file of `write_share_files`, through the shares' predefined ETL if they name one.
    A triggered ETL refused (400) or missing (404) is an error naming the activations, the
    etlId and the file's columns: the definition made in the portal must match them."""
    first = shares[0].activation
    key, etl_id = first.match_key.destination, first.etl_id
    try:
        return run_update_file(adapter, part, key, on_started, etl_id=etl_id)
    except PermanentApiError as exc:
        if etl_id is None or exc.status not in (400, 404):
            raise
        names = ", ".join(s.activation.name for s in shares)
        columns = ", ".join([key, *(f.destination for f in first.fields)])
        shape = f"UPDATE_ONLY, keyed by {key}, mapping exactly the columns {columns}"
        what = (f"no ETL {etl_id!r} in entity {adapter.entity}: create it in the Actito portal "
                f"({shape})" if exc.status == 404 else
                f"Actito refused the file for ETL {etl_id!r}: its definition in the portal "
                f"must be {shape}")
        raise PermanentApiError(
            f"activation {names}: {what}; or remove etlId to use a one-shot execution",
            destination="actito", call=exc.call, status=exc.status,
            api_message=exc.api_message) from exc


def _csv_selections(conn: duckdb.DuckDBPyConnection, union: str, columns: Sequence[str],
                    empty_values: EmptyValues) -> Iterator[tuple[list[str], str]]:
    """(columns kept, SQL condition) of each CSV to write from `union`."""
    if empty_values is EmptyValues.CLEAR or not columns:
        yield list(columns), "TRUE"
        return
    empty = [f'(CAST({repr_ident(c)} AS VARCHAR) IS NULL OR CAST({repr_ident(c)} AS VARCHAR) '
             "= '')" for c in columns]
    patterns = conn.execute(f'SELECT DISTINCT {", ".join(empty)} FROM "{union}" '
                            "ORDER BY ALL").fetchall()
    for pattern in patterns:
        if all(pattern):
            continue  # every value NULL: nothing to send (skip keeps them all)
        kept = [c for c, is_empty in zip(columns, pattern, strict=True) if not is_empty]
        where = " AND ".join(f"{'' if is_empty else 'NOT '}{test}"
                             for test, is_empty in zip(empty, pattern, strict=True))
        yield kept, where


def repr_ident(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
