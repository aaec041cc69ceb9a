"""The typed client of the Selligent (Marigold Engage) v1 REST API, for exactly our endpoints.

One method per documented operation (the Swagger operationId is in each docstring). Listings
and searches are generators that page with skip/take until a short page; loads and deletes
take any iterable of rows and send it in chunks within `SelligentLimits`. Retrying and error
mapping are `transport.py`'s; every error names the organization, list or segment.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.selligent.chunking import RowTooLargeError, chunk_rows, send_chunks
from reconciler.destinations.selligent.errors import DESTINATION
from reconciler.destinations.selligent.results import DataResult
from reconciler.destinations.selligent.transport import Call, SelligentLimits, Transport

Filter = dict[str, str]  # {"field_name", "operator", "field_value"}


def _q(name: str) -> str:
    return quote(name, safe="")


class SelligentClient:
    """Calls one Selligent instance (`base_url` ends with /Portal/Api) with one key pair."""

    def __init__(self, base_url: str, api_key: str, api_secret: str,
                 limits: SelligentLimits | None = None, **transport: Any) -> None:
        self.transport = Transport(base_url, api_key, api_secret, limits, **transport)
        self.limits = self.transport.limits

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
                         direction: str = "ASC") -> Iterator[list[list[Any]]]:
        """Data_SearchData, one page of rows (aligned with `fields`) at a time."""
        path, where = self._paths(org, list_name)
        return self._search(f"{path}/data/search", where, fields, filters, order_by, direction)

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
        while True:
            page = fetch({**base, "skip": skip, "take": take})
            yield from page
            if len(page) < take:
                return
            skip += take

    def _search(self, path: str, where: str, fields: Sequence[str], filters: Sequence[Filter],
                order_by: str | None, direction: str) -> Iterator[list[list[Any]]]:
        take, skip = self.limits.page_size, 0
        while True:
            body: dict[str, Any] = {"fields": list(fields), "filters": list(filters),
                                    "skip": skip, "take": take}
            if order_by:
                body.update(order_by=order_by, order_by_direction=direction)
            page = list(self._call("POST", path, where, body=body).get("data") or [])
            if page:
                yield page
            if len(page) < take:
                return
            skip += take

    def _send_rows(self, method: str, path: str, where: str, key_fields: Sequence[str],
                   fields: Sequence[str], rows: Iterable[Sequence[Any]],
                   extra: dict[str, Any]) -> DataResult:
        params = {"keyFields": ",".join(key_fields), "fields": ",".join(fields),
                  **{k: v for k, v in extra.items() if v is not None}}
        result = DataResult(call=f"{method} {path}")
        limits = self.limits
        chunks = chunk_rows(rows, limits.max_rows_per_call, limits.max_bytes_per_call)
        try:
            for offset, body in send_chunks(
                chunks, lambda chunk: self._call(method, path, where, params=params, body=chunk),
                limits.max_in_flight,
            ):
                result.add(body if isinstance(body, dict) else {}, offset)
        except RowTooLargeError as exc:
            raise PermanentApiError(f"{where}: {exc}", destination=DESTINATION,
                                    call=result.call) from exc
        return result
