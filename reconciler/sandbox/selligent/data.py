"""Route handlers for list and segment data: load, delete, clear and search."""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.selligent import loading, search
from reconciler.sandbox.selligent.problem import ApiProblem
from reconciler.sandbox.selligent.resources import find_list, find_segment, succeeded
from reconciler.sandbox.selligent.rows import Batch, read_batch
from reconciler.sandbox.selligent.store import ListTable, Store


def _json(req: Request) -> Any:
    try:
        return req.json()
    except ValueError as exc:
        raise ApiProblem.invalid("The body is not valid JSON.") from exc


def _batch(table: ListTable, req: Request, max_rows: int | None) -> Batch:
    return read_batch(table, req.arg("keyFields"), req.arg("fields"), _json(req), max_rows)


def load_list_data(store: Store, req: Request, max_rows: int | None) -> Response:
    table = find_list(store, req)
    batch = _batch(table, req, max_rows)
    option, dedup = req.arg("data_import_option"), req.arg("deduplication")
    return Response(200, loading.load_list(table, batch, option, dedup))


def delete_list_data(store: Store, req: Request, max_rows: int | None) -> Response:
    table = find_list(store, req)
    return Response(200, loading.delete_from_list(table, _batch(table, req, max_rows)))


def search_list_data(store: Store, req: Request) -> Response:
    table = find_list(store, req)
    records = sorted(table.records.items())
    return Response(200, search.search(table, records, _json(req)))


def load_segment_data(store: Store, req: Request, max_rows: int | None) -> Response:
    table, segment = find_segment(store, req)
    loading.require_static(segment)  # a dynamic segment is refused before its rows are read
    batch = _batch(table, req, max_rows)
    return Response(200, loading.load_segment(table, segment, batch, req.arg("deduplication")))


def delete_segment_data(store: Store, req: Request, max_rows: int | None) -> Response:
    table, segment = find_segment(store, req)
    loading.require_static(segment)
    return Response(200, loading.delete_from_segment(table, segment, _batch(table, req, max_rows)))


def clear_segment_data(store: Store, req: Request) -> Response:
    _, segment = find_segment(store, req)
    loading.clear_segment(segment)
    return succeeded("The data has been cleared successfully.")


def search_segment_data(store: Store, req: Request) -> Response:
    table, segment = find_segment(store, req)
    return Response(200, search.search(table, search.segment_records(table, segment), _json(req)))
