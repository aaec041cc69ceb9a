"""The Selligent sandbox's routes under /Portal/Api, with service-account auth.

Every route carries the vendor's Swagger `operationId`, which is also how a service account's
endpoint permissions are written. Handlers run under the store's lock; a successful change is
saved before the answer leaves.

Service accounts [C: §1.1, §8, the Marigold api-key-authentication guide] have a key pair
with an expiry date, optional IP filtering, an optional organization limitation and per-endpoint
permissions (a missing one answers 401, documented). How an expired key or a refused IP is
answered is inferred (`inferred.py`): each refusal has its own body.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from reconciler.sandbox.http import Request, Response, Router
from reconciler.sandbox.selligent import data, inferred, resources
from reconciler.sandbox.selligent.problem import (
    ApiProblem,
    SegmentNotFound,
    envelope,
    result_code_for,
)
from reconciler.sandbox.selligent.store import Store

BASE_PATH = "/Portal/Api"
_ORG = "/organizations/{organization}"
_LIST = _ORG + "/lists/{api_name}"
_SEGMENT = _LIST + "/segments/{segment_api_name}"

StoreHandler = Callable[[Store, Request], Response]


@dataclass(frozen=True)
class ServiceAccount:
    """An API key pair; optionally limited to some organizations, operationIds and caller
    addresses, and expiring."""

    key: str
    secret: str
    organizations: frozenset[str] | None = None  # None: every organization
    endpoints: frozenset[str] | None = None  # Swagger operationIds, e.g. "Data_LoadData"
    expires_on: dt.date | None = None  # the last day the key works (UTC); None: never expires
    allowed_ips: frozenset[str] | None = None  # addresses or networks ("10.0.0.0/8"); None: any

    def __post_init__(self) -> None:
        for allowed in self.allowed_ips or ():
            ipaddress.ip_network(allowed, strict=False)  # ValueError now, not on a request

    def expired(self, today: dt.date) -> bool:
        return self.expires_on is not None and today > self.expires_on

    def allows_ip(self, address: str) -> bool:
        if self.allowed_ips is None:
            return True
        try:
            caller = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(caller in ipaddress.ip_network(allowed, strict=False)
                   for allowed in self.allowed_ips)

    @classmethod
    def parse(cls, text: str) -> ServiceAccount:
        """`key:secret`, as the X-ApiKey header carries it."""
        key, _, secret = text.partition(":")
        return cls(key, secret)


DEFAULT_ACCOUNT = ServiceAccount("sandbox-key", "sandbox-secret")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _error_body(status: int, code: str, message: str) -> dict[str, object]:
    """The vendor's envelope for the server's own answers (faults, unknown routes)."""
    if status == 503:  # [I] high load or maintenance (§8): the envelope, generic code ERR
        return envelope(inferred.SERVICE_UNAVAILABLE_CODE,
                        inferred.SERVICE_UNAVAILABLE_DESCRIPTION, "ServiceUnavailable")
    return envelope(code, message, result_code_for(status))


def credentials(headers: Mapping[str, str]) -> tuple[str, str]:
    """key and secret from `X-ApiKey: key:secret`, or `X-ApiKey` + `X-ApiKey-Secret`
    (`headers` with lower-cased names)."""
    header = headers.get("x-apikey", "")
    if ":" in header:
        key, _, secret = header.partition(":")
        return key, secret
    return header, headers.get("x-apikey-secret", "")


def _refused(status: int, code: str, description: str) -> Response:
    return Response(status, envelope(code, description, result_code_for(status)))


class SelligentApp:
    """Builds the router; checks the caller's key, expiry, address, organization and endpoint
    on every call. The keyword arguments are the tenant's knobs (`SelligentSandboxConfig`)."""

    def __init__(
        self, store: Store, accounts: list[ServiceAccount], max_rows_per_load: int | None,
        *, max_take: int | None = None, unknown_segment_status: int = 404,
        seconds_per_1000_rows: float = 0.0, today: Callable[[], dt.date] = utc_today,
    ) -> None:
        if unknown_segment_status not in inferred.UNKNOWN_SEGMENT_STATUSES:
            raise ValueError(f"unknown_segment_status must be one of "
                             f"{inferred.UNKNOWN_SEGMENT_STATUSES}")
        self.store = store
        self.accounts = accounts
        self.limits = data.DataLimits(max_rows_per_load, seconds_per_1000_rows, max_take)
        self.unknown_segment_status = unknown_segment_status
        self.today = today
        self.router = Router(_error_body)
        self._add_routes()

    def _add_routes(self) -> None:
        r, d = resources, data

        def limited(handler: Callable[..., Response]) -> StoreHandler:
            return partial(handler, limits=self.limits)

        def paged(handler: Callable[..., Response]) -> StoreHandler:
            return partial(handler, max_take=self.limits.max_take)

        routes: list[tuple[str, str, str, StoreHandler, bool]] = [
            ("GET", "/status", "Status_Get", r.get_status, False),
            ("GET", _ORG, "Organization_Get", r.get_organization, False),
            ("GET", _ORG + "/lists", "List_GetLists", paged(r.get_lists), False),
            ("POST", _ORG + "/lists", "List_CreateList", r.create_list, True),
            ("GET", _LIST, "List_GetList", r.get_list, False),
            ("DELETE", _LIST, "List_Delete", r.delete_list, True),
            ("GET", _LIST + "/fields", "List_GetListFields", r.get_fields, False),
            ("POST", _LIST + "/fields", "List_CreateListFields", r.create_fields, True),
            ("GET", _LIST + "/records", "List_GetListRecordsCount", r.get_records_count, False),
            ("POST", _LIST + "/data/load", "Data_LoadData", limited(d.load_list_data), True),
            ("DELETE", _LIST + "/data", "Data_DeleteData", limited(d.delete_list_data), True),
            ("POST", _LIST + "/data/search", "Data_SearchData", limited(d.search_list_data),
             False),
            ("GET", _LIST + "/segments", "List_GetListSegments", paged(r.get_segments), False),
            ("POST", _LIST + "/segments/static", "List_CreateStaticSegment",
             r.create_static_segment, True),
            ("GET", _SEGMENT, "List_GetListSegment", r.get_segment, False),
            ("DELETE", _SEGMENT, "List_DeleteSegment", r.delete_segment, True),
            ("POST", _SEGMENT + "/data/load", "Data_LoadSegmentData",
             limited(d.load_segment_data), True),
            ("DELETE", _SEGMENT + "/data", "Data_DeleteSegmentData",
             limited(d.delete_segment_data), True),
            ("DELETE", _SEGMENT + "/data/clear", "Data_ClearStaticSegmentData",
             d.clear_segment_data, True),
            ("POST", _SEGMENT + "/data/search", "Data_SearchSegmentData",
             limited(d.search_segment_data), False),
        ]
        for method, path, operation, handler, mutates in routes:
            self.router.add(method, BASE_PATH + path, self._guard(operation, handler, mutates))

    def _guard(
        self, operation: str, handler: StoreHandler, mutates: bool
    ) -> Callable[[Request], Response]:
        def serve(req: Request) -> Response:
            refusal = self._refusal(req, operation)
            if refusal is not None:
                return refusal
            self.store.note_request()
            with self.store.lock:
                try:
                    response = handler(self.store, req)
                except SegmentNotFound as missing:
                    problem = missing.answered_with(self.unknown_segment_status)
                    return Response(problem.status, problem.body())
                except ApiProblem as problem:
                    return Response(problem.status, problem.body())
                if mutates:
                    self.store.mark_changed()
                return response

        return serve

    def _refusal(self, req: Request, operation: str) -> Response | None:
        """None when the caller may make this call, else the answer refusing it: in the order
        key and secret, expiry, address, then organization and endpoint (inferred.py)."""
        key, secret = credentials(req.headers)
        account = next((a for a in self.accounts if a.key == key and a.secret == secret), None)
        if account is None or not key:
            return Response(401, inferred.UNAUTHORIZED_BODY)
        if account.expired(self.today()):
            expired = inferred.KEY_EXPIRED_DESCRIPTION.format(expired=account.expires_on)
            return _refused(inferred.KEY_EXPIRED_STATUS, inferred.KEY_EXPIRED_CODE, expired)
        if not account.allows_ip(req.client):
            refused = inferred.IP_NOT_ALLOWED_DESCRIPTION.format(ip=req.client or "unknown")
            return _refused(inferred.IP_NOT_ALLOWED_STATUS, inferred.IP_NOT_ALLOWED_CODE, refused)
        if account.endpoints is not None and operation not in account.endpoints:
            return Response(401, inferred.UNAUTHORIZED_BODY)
        org = req.params.get("organization")
        if org is not None and account.organizations is not None and not any(
            org.casefold() == o.casefold() for o in account.organizations
        ):
            return Response(401, inferred.UNAUTHORIZED_BODY)
        return None
