"""The typed client of the Selligent (Marigold Engage) v1 REST API, for exactly our endpoints.

One method per documented operation (the Swagger operationId is in each docstring). Listings
and searches are generators of pages. A tenant may cap `take` below what we ask (api/selligent.md
§8), so a short page is not the end: the next `skip` is what was actually received, and a read
ends on an empty page — or, for a whole list whose record count was read first
(List_GetListRecordsCount), once the count is reached, the pages after the first then fetched
in parallel; a read that ends short of the count is an error, never a smaller index. Loads and
deletes take any iterable of rows and send it in chunks within `SelligentLimits`. Retrying and error
mapping are `transport.py`'s; every error names the organization, list or segment.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from reconciler.destinations.errors import PermanentApiError, TransientApiError
from reconciler.destinations.selligent.chunking import (
    RowTooLargeError,
    chunk_rows,
    in_order,
    send_chunks,
)
from reconciler.destinations.selligent.errors import DESTINATION
from reconciler.destinations.selligent.results import DataResult
from reconciler.destinations.selligent.sizing import CallSizer, SizingSettings
from reconciler.destinations.selligent.transport import Call, SelligentLimits, Transport

log = logging.getLogger(__name__)
Filter = dict[str, str]  # {"field_name", "operator", "field_value"}


def _q(name: str) -> str:
    return quote(name, safe="")


class SelligentClient:
    """Calls one Selligent instance (`base_url` ends with /Portal/Api) with one key pair."""

    def __init__(self, base_url: str, api_key: str, api_secret: str,
                 limits: SelligentLimits | None = None, **transport: Any) -> None:
        self.transport = Transport(base_url, api_key, api_secret, limits, **transport)
        self.limits = self.transport.limits
        self.sizer = CallSizer(self.limits.max_rows_per_call, SizingSettings(
            initial_rows=self.limits.initial_rows_per_call,
            time_limit=self.limits.inbound_limit_seconds))

    def close(self) -> None:
        self.transport.close()

    def _call(self, method: str, path: str, where: str, **kwargs: Any) -> Any:
        return self.transport.request(Call(method, path, where), **kwargs)

    @staticmethod
    def _paths(
        org: str, list_name: str | None = None, segment: str | None = None
    ) -> tuple[str, str]:
        path, where = f"/organizations/{_q(org)}", f"organization {org}"
        if list_name is not None:
            path, where = f"{path}/lists/{_q(list_name)}", f"{where}, list {list_name}"
        if segment is not None:
            path, where = f"{path}/segments/{_q(segment)}", f"{where}, segment {segment}"
        return path, where

    # -- status and organization ---------------------------------------------------------
    def get_status(self) -> None:
        """Status_Get: raises unless the API is up and the key is accepted."""
        self._call("GET", "/status", "the API status")

    def get_organization(self, org: str) -> dict[str, Any]:
        """Organization_Get: the organization's details (audiences, languages, …)."""
        path, where = self._paths(org)
        return dict(self._call("GET", path, where))

    # -- lists and fields ----------------------------------------------------------------
    def iter_lists(self, org: str, *, list_type: str | None = None,
                   search: str | None = None) -> Iterator[dict[str, Any]]:
        """List_GetLists, paged: {id, type, api_name, name} per list."""
        path, where = self._paths(org)
        params = {"filter": list_type, "search": search}
        yield from self._pages(
            lambda p: self._call("GET", f"{path}/lists", where, params=p).get("lists") or [],
            params)

    def create_list(self, org: str, api_name: str, name: str, list_type: str = "Userlist",
                    description: str = "", tags: Sequence[str] = ()) -> None:
        """List_CreateList."""
        path, where = self._paths(org)
        body = {"api_name": api_name, "name": name, "type": list_type,
                "description": description, "tags": list(tags)}
        self._call("POST", f"{path}/lists", f"{where}, new list {api_name}", body=body)

    def get_list(self, org: str, list_name: str) -> dict[str, Any]:
        """List_GetList: the list's details."""
        return dict(self._call("GET", *self._paths(org, list_name)))

    def delete_list(self, org: str, list_name: str) -> None:
        """List_Delete."""
        self._call("DELETE", *self._paths(org, list_name))

    def count_list_records(self, org: str, list_name: str) -> int:
        """List_GetListRecordsCount: how many records the list holds."""
        path, where = self._paths(org, list_name)
        body = self._call("GET", f"{path}/records", where)
        count = body.get("count") if isinstance(body, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise PermanentApiError(f"{where}: the record count answer holds no count",
                                    destination=DESTINATION, call=f"GET {path}/records")
        return count

    def get_fields(self, org: str, list_name: str) -> list[dict[str, Any]]:
        """List_GetListFields: {name, data_type, length, description, allow_null, …} per field."""
        path, where = self._paths(org, list_name)
        return list(self._call("GET", f"{path}/fields", where).get("fields") or [])

    def create_fields(self, org: str, list_name: str, fields: Sequence[dict[str, Any]]) -> None:
        """List_CreateListFields: each field needs `name` and `data_type`."""
        path, where = self._paths(org, list_name)
        self._call("POST", f"{path}/fields", where, body={"fields": list(fields)})

    # -- segments ------------------------------------------------------------------------
    def iter_segments(self, org: str, list_name: str, *, segment_type: str | None = None,
                      search: str | None = None) -> Iterator[dict[str, Any]]:
        """List_GetListSegments, paged: {segment_type, api_name} per segment."""
        path, where = self._paths(org, list_name)
        params = {"filter": segment_type, "search": search}
        yield from self._pages(
            lambda p: self._call("GET", f"{path}/segments", where, params=p).get("segments")
            or [], params)

    def get_segment(self, org: str, list_name: str, segment: str) -> dict[str, Any]:
        """List_GetListSegment: {type, api_name, name, description}."""
        return dict(self._call("GET", *self._paths(org, list_name, segment)))

    def create_static_segment(self, org: str, list_name: str, api_name: str, name: str,
                              description: str = "", tags: Sequence[str] = ()) -> None:
        """List_CreateStaticSegment."""
        path, where = self._paths(org, list_name)
        body = {"api_name": api_name, "name": name, "description": description, "tags": list(tags)}
        self._call("POST", f"{path}/segments/static", f"{where}, new segment {api_name}", body=body)

    def delete_segment(self, org: str, list_name: str, segment: str) -> None:
        """List_DeleteSegment."""
        self._call("DELETE", *self._paths(org, list_name, segment))

    def clear_segment(self, org: str, list_name: str, segment: str) -> None:
        """Data_ClearStaticSegmentData: removes every member (the contacts stay in the list)."""
        path, where = self._paths(org, list_name, segment)
        self._call("DELETE", f"{path}/data/clear", where)

    # -- data ----------------------------------------------------------------------------
    def load_list_data(self, org: str, list_name: str, key_fields: Sequence[str],
                       fields: Sequence[str], rows: Iterable[Sequence[Any]], *,
                       import_option: str = "InsertAndUpdate",
                       deduplication: str | None = None) -> DataResult:
        """Data_LoadData in chunks: upsert rows (aligned with `fields`) matched on `key_fields`."""
        path, where = self._paths(org, list_name)
        params = {"data_import_option": import_option, "deduplication": deduplication}
        return self._send_rows("POST", f"{path}/data/load", where, key_fields, fields, rows, params)

    def delete_list_data(self, org: str, list_name: str, key_fields: Sequence[str],
                         fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> DataResult:
        """Data_DeleteData in chunks: delete the list records matching each row's key."""
        path, where = self._paths(org, list_name)
        return self._send_rows("DELETE", f"{path}/data", where, key_fields, fields, rows, {})

    def load_segment_data(self, org: str, list_name: str, segment: str,
                          key_fields: Sequence[str], fields: Sequence[str],
                          rows: Iterable[Sequence[Any]]) -> DataResult:
        """Data_LoadSegmentData in chunks: reference existing list records from the segment."""
        path, where = self._paths(org, list_name, segment)
        return self._send_rows("POST", f"{path}/data/load", where, key_fields, fields, rows, {})

    def delete_segment_data(self, org: str, list_name: str, segment: str,
                            key_fields: Sequence[str], fields: Sequence[str],
                            rows: Iterable[Sequence[Any]]) -> DataResult:
        """Data_DeleteSegmentData in chunks: drop references; the list records stay."""
        path, where = self._paths(org, list_name, segment)
        return self._send_rows("DELETE", f"{path}/data", where, key_fields, fields, rows, {})

    def search_list_data(self, org: str, list_name: str, fields: Sequence[str],
                         filters: Sequence[Filter] = (), order_by: str | None = None,
                         direction: str = "ASC",
                         expected: int | None = None) -> Iterator[list[list[Any]]]:
        """Data_SearchData, one page of rows (aligned with `fields`) at a time. `expected`:
        the record count (of an unfiltered search): read to it, in parallel, or fail."""
        path, where = self._paths(org, list_name)
        return self._search(f"{path}/data/search", where, fields, filters, order_by, direction,
                            expected)

    def search_list_page(self, org: str, list_name: str, fields: Sequence[str],
                         filters: Sequence[Filter], take: int) -> list[list[Any]]:
        """Data_SearchData, one call: the first `take` rows matching `filters` (a lookup)."""
        path, where = self._paths(org, list_name)
        body = {"fields": list(fields), "filters": list(filters), "skip": 0, "take": take}
        return list(self._call("POST", f"{path}/data/search", where, body=body).get("data")
                    or [])

    def search_segment_data(self, org: str, list_name: str, segment: str, fields: Sequence[str],
                            filters: Sequence[Filter] = (), order_by: str | None = None,
                            direction: str = "ASC") -> Iterator[list[list[Any]]]:
        """Data_SearchSegmentData, one page of the segment's rows at a time."""
        path, where = self._paths(org, list_name, segment)
        return self._search(f"{path}/data/search", where, fields, filters, order_by, direction)

    # -- machinery -----------------------------------------------------------------------
    def _pages(self, fetch: Callable[[dict[str, Any]], list[Any]],
               params: dict[str, Any]) -> Iterator[Any]:
        take, skip = self.limits.page_size, 0
        base = {k: v for k, v in params.items() if v is not None}
        while page := fetch({**base, "skip": skip, "take": take}):
            yield from page
            skip += len(page)  # what came, not what was asked: `take` may be capped

    def _search(self, path: str, where: str, fields: Sequence[str], filters: Sequence[Filter],
                order_by: str | None, direction: str,
                expected: int | None = None) -> Iterator[list[list[Any]]]:
        take = self.limits.page_size

        def fetch(skip: int) -> list[list[Any]]:
            body: dict[str, Any] = {"fields": list(fields), "filters": list(filters),
                                    "skip": skip, "take": take}
            if order_by:
                body.update(order_by=order_by, order_by_direction=direction)
            return list(self._call("POST", path, where, body=body).get("data") or [])

        first = fetch(0)
        if first:
            yield first
        received = len(first)
        if expected is not None and first and received < expected:
            # The tenant's page size is what the first page held: the other pages' offsets
            # are known, and they are read `read_in_flight` at a time, in order.
            size = received
            for page in in_order(range(size, expected, size), fetch,
                                 self.limits.read_in_flight):
                if page:
                    yield page
                received += len(page)
                if len(page) < size:
                    break
        if expected is None:  # no count: on to an empty page
            while first and (page := fetch(received)):
                yield page
                received += len(page)
        if expected is not None and received < expected:
            raise PermanentApiError(
                f"{where}: read {received:,} records of the {expected:,} the list holds: "
                "the pages ended early (records deleted meanwhile, or paging the API does "
                "not keep); nothing is planned on a partial read — run the plan again",
                destination=DESTINATION, call=f"POST {path}")

    def _send_sized(self, call: Call, params: dict[str, Any],
                    chunk: list[list[str]]) -> list[tuple[int, Any]]:
        """Send a chunk; one that runs into the inbound time limit is split in two and each
        half sent (the size of later chunks halves too). (first row in chunk, answer) each."""
        started = time.monotonic()
        try:
            body = self.transport.request(
                call, params=params, body=chunk,
                give_up=self.sizer.too_slow if len(chunk) > 1 else None)
        except TransientApiError as error:
            if len(chunk) <= 1 or not self.sizer.too_slow(error):
                raise
            half = self.sizer.timed_out(len(chunk))
            log.warning("%s %s: %d rows did not fit the %.0f-s limit; sending halves",
                        DESTINATION, call.name, len(chunk), self.sizer.settings.time_limit)
            first = self._send_sized(call, params, chunk[:half])
            rest = self._send_sized(call, params, chunk[half:])
            return first + [(half + start, answer) for start, answer in rest]
        self.sizer.answered(len(chunk), time.monotonic() - started)
        return [(0, body)]

    def _send_rows(self, method: str, path: str, where: str, key_fields: Sequence[str],
                   fields: Sequence[str], rows: Iterable[Sequence[Any]],
                   extra: dict[str, Any]) -> DataResult:
        params = {"keyFields": ",".join(key_fields), "fields": ",".join(fields),
                  **{k: v for k, v in extra.items() if v is not None}}
        result = DataResult(call=f"{method} {path}")
        limits = self.limits
        chunks = chunk_rows(rows, lambda: self.sizer.rows, limits.max_bytes_per_call)
        call = Call(method, path, where)
        try:
            for offset, answers in send_chunks(
                chunks, lambda chunk: self._send_sized(call, params, chunk), limits.max_in_flight,
            ):
                for start, body in answers:
                    result.add(body if isinstance(body, dict) else {}, offset + start)
        except RowTooLargeError as exc:
            raise PermanentApiError(f"{where}: {exc}", destination=DESTINATION,
                                    call=result.call) from exc
        return result
