"""Route handlers for list and segment data: load, delete, clear and search.

`DataLimits` are the tenant's knobs these handlers honour: rows per call, the time a call's
rows take (answered as `Response.delay`, which the server counts against the documented
15-second inbound limit, §8), and the page cap of searches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.selligent import loading, search
from reconciler.sandbox.selligent.problem import ApiProblem
from reconciler.sandbox.selligent.resources import find_list, find_segment, succeeded
from reconciler.sandbox.selligent.rows import Batch, read_batch
from reconciler.sandbox.selligent.store import ListTable, Store


@dataclass(frozen=True)
class DataLimits:
    max_rows: int | None = None  # rows per load or delete call; over it a 400
    seconds_per_1000_rows: float = 0.0  # how long a load or delete takes per 1,000 rows
    max_take: int | None = None  # the largest page a search answers


NO_LIMITS = DataLimits()


def _json(req: Request) -> Any:
    try:
        return req.json()
    except ValueError as exc:
        raise ApiProblem.invalid("The body is not valid JSON.") from exc


def _batch(table: ListTable, req: Request, limits: DataLimits) -> Batch:
    return read_batch(table, req.arg("keyFields"), req.arg("fields"), _json(req), limits.max_rows)


def _worked(result: dict[str, Any], batch: Batch, limits: DataLimits) -> Response:
    """The answer of a load or delete, sent once its rows' time has passed."""
    return Response(200, result, delay=batch.total / 1000 * limits.seconds_per_1000_rows)


def load_list_data(store: Store, req: Request, limits: DataLimits = NO_LIMITS) -> Response:
    table = find_list(store, req)
    batch = _batch(table, req, limits)
    option, dedup = req.arg("data_import_option"), req.arg("deduplication")
    return _worked(loading.load_list(table, batch, option, dedup), batch, limits)


def delete_list_data(store: Store, req: Request, limits: DataLimits = NO_LIMITS) -> Response:
    table = find_list(store, req)
    batch = _batch(table, req, limits)
    return _worked(loading.delete_from_list(table, batch), batch, limits)


def search_list_data(store: Store, req: Request, limits: DataLimits = NO_LIMITS) -> Response:
    table = find_list(store, req)
    records = table.ordered(search.RECORD_ID, False, lambda: sorted(table.records.items()))
    return Response(200, search.search(table, records, _json(req), limits.max_take))


def load_segment_data(store: Store, req: Request, limits: DataLimits = NO_LIMITS) -> Response:
    table, segment = find_segment(store, req)
    loading.require_static(segment)  # a dynamic segment is refused before its rows are read
    batch = _batch(table, req, limits)
    result = loading.load_segment(table, segment, batch, req.arg("deduplication"))
    return _worked(result, batch, limits)


def delete_segment_data(store: Store, req: Request, limits: DataLimits = NO_LIMITS) -> Response:
    table, segment = find_segment(store, req)
    loading.require_static(segment)
    batch = _batch(table, req, limits)
    return _worked(loading.delete_from_segment(table, segment, batch), batch, limits)


def clear_segment_data(store: Store, req: Request) -> Response:
    _, segment = find_segment(store, req)
    loading.clear_segment(segment)
    return succeeded("The data has been cleared successfully.")


def search_segment_data(store: Store, req: Request, limits: DataLimits = NO_LIMITS) -> Response:
    table, segment = find_segment(store, req)
    records = search.segment_records(table, segment)
    return Response(200, search.search(table, records, _json(req), limits.max_take))
