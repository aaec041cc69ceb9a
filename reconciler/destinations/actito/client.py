"""The Actito wire: tokens, the licence gate, retries, and one method per operation we use.

Every path, body template and listing key comes from routes.py's table (with the
destination's `api.routes` replacements), each tagged documented or inferred against
`../shared/api/actito-evidence.md` ("evidence §n"). v5 paths address a profile table by its id
([C] evidence §2): methods take the table's name, as the manifests say it, and put the id they
resolve once per client from the table list in the path. This module holds no
business rules: the adapter decides what to call. It logs call names and statuses only: never
the API key, a token, a password or a profile value (which is why paths are never logged or put
in errors).
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from reconciler.destinations.actito import errors
from reconciler.destinations.actito.executions import end_of, raw_status
from reconciler.destinations.actito.limits import ActitoLimits, licence_gate
from reconciler.destinations.actito.polling import poll_delays
from reconciler.destinations.actito.routes import Request, RouteBook
from reconciler.destinations.errors import (
    AuthenticationError,
    PermanentApiError,
    TransientApiError,
)
from reconciler.destinations.http import RetryPolicy, mask_in_urls, with_retries

log = logging.getLogger(__name__)
JSON = "application/json"
# A lookup's `{profileKey}` (v5 `/profiles/attr=value`; v4 `/profile/attr=value`) holds a key.
LOOKUP = re.compile(r"(/profiles?/[^/=?\s]+=)[^/?\s\"]+")
# [C] evidence §10 "concurrency or quota": a 429 on an import start is retried briefly (this
# many tries in all, with the retry policy's backoff), then taken for the daily quota.
IMPORT_START_429_TRIES = 3


# urllib3 logs each URL at DEBUG; a lookup URL holds the key (an e-mail, a phone).
mask_in_urls(LOOKUP, r"\1***")


class ActitoClient:
    """One licence's API: `base_url` like https://api.actito.com (or a sandbox's URL)."""

    def __init__(self, base_url: str, api_key: str, entity: str, *,
                 limits: ActitoLimits | None = None, retry: RetryPolicy | None = None,
                 timeout_seconds: float = 60.0, routes: RouteBook | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`clock`: seconds, for the token's lifetime (tests move it); `routes`: the route
        table with the destination's replacements (routes.py)."""
        self.routes = routes or RouteBook()
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        self.entity = entity
        self.retry = retry or RetryPolicy()
        self.timeout_seconds = timeout_seconds
        self._api_key = api_key
        self._gate = licence_gate(self.base_url, api_key, limits or ActitoLimits())
        self._session = requests.Session()
        self._token: str | None = None
        self._token_expiry = 0.0
        self._token_lock = threading.Lock()
        self._table_ids: dict[str, str] = {}  # profile table name → id, read once
        self._tables_lock = threading.Lock()
        self._calls, self._calls_lock = 0, threading.Lock()  # calls sent, from any thread

    @property
    def calls_sent(self) -> int:
        """The calls sent so far (token calls and retries included)."""
        return self._calls

    def __repr__(self) -> str:  # never show the key
        return f"ActitoClient({self.base_url!r}, entity={self.entity!r})"

    # --- tokens ----------------------------------------------------------------------------
    def _bearer(self, *, renew: bool = False) -> str:
        """A valid token, fetched again shortly before expiry (or when `renew`)."""
        with self._token_lock:
            if renew or self._token is None or self._clock() >= self._token_expiry:
                body = self._send("GET", "/auth/token", "GET /auth/token", "the API key",
                                  headers={"Authorization": self._api_key})
                token, lifetime = body.get("accessToken"), str(body.get("expiresIn", "900s"))
                if not token:
                    raise errors.bad_answer("GET /auth/token", "the API key", "no accessToken")
                seconds = float(lifetime.rstrip("s") or 900)
                margin = min(60.0, seconds / 4)  # refresh before expiry, as §1.1 clients do
                self._token, self._token_expiry = token, self._clock() + seconds - margin
            return self._token

    # --- the one way to call -----------------------------------------------------------------
    def call(self, method: str, path: str, *, call: str, subject: str,
             give_up: Callable[[TransientApiError], bool] | None = None, **kwargs: Any) -> Any:
        """Send with a token; renew it once on 401; parsed JSON (None for an empty body).
        `give_up` stops the retries early for the transient errors it picks."""
        bearer = self._bearer()
        try:
            return self._send(method, path, call, subject, bearer=bearer, give_up=give_up,
                              **kwargs)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise
            log.info("actito %s: 401, renewing the token once", call)
            return self._send(method, path, call, subject, bearer=self._bearer(renew=True),
                              give_up=give_up, **kwargs)

    def _send(self, method: str, path: str, call: str, subject: str, *,
              bearer: str | None = None, headers: dict[str, str] | None = None,
              give_up: Callable[[TransientApiError], bool] | None = None,
              **kwargs: Any) -> Any:
        """One logical call: gate, retries on transient failures, errors mapped."""
        sent_headers = {"Accept": JSON, **(headers or {})}
        if bearer is not None:
            sent_headers["Authorization"] = f"Bearer {bearer}"
        return with_retries(
            lambda: self._attempt(method, path, call, subject, sent_headers, kwargs),
            self.retry, name=f"actito {call}", give_up=give_up)

    def _attempt(self, method: str, path: str, call: str, subject: str,
                 headers: dict[str, str], kwargs: dict[str, Any]) -> Any:
        sent = dict(kwargs)
        if callable(sent.get("files")):  # a file upload is reopened on each attempt
            sent["files"] = sent["files"]()
        with self._calls_lock:
            self._calls += 1
        try:
            with self._gate.slot():
                response = self._session.request(method, self.base_url + path, headers=headers,
                                                 timeout=self.timeout_seconds, **sent)
        except requests.RequestException as exc:
            raise errors.connection_error(exc, self.base_url + path, call, subject) from exc
        finally:
            for part in (sent.get("files") or {}).values():
                if hasattr(part[1], "close"):
                    part[1].close()
        log.debug("actito %s → %d", call, response.status_code)
        if response.status_code >= 400:
            raise errors.error_for(response, call, subject)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise errors.bad_answer(call, subject, "not JSON") from exc

    # --- routes (every path and body comes from routes.py's table) ----------------------------
    def request(self, operation: str, values: dict[str, Any] | None = None, *,
                table: str | None = None) -> Request:
        """`operation` filled in for this entity (and `table`, by its id)."""
        filled = {"entity": self.entity, **(values or {})}
        if table is not None:
            filled["table"] = self.table_id(table)
            filled.setdefault("tableName", table)
        return self.routes.request(operation, filled)

    def send(self, request: Request, *, call: str, subject: str, **kwargs: Any) -> Any:
        if request.body is not None and "files" not in kwargs:
            kwargs["json"] = request.body
        if request.query is not None:
            kwargs["params"] = request.query
        return self.call(request.route.method, request.path, call=call, subject=subject,
                         **kwargs)

    def table_id(self, table: str) -> str:
        """The id of the profile table named `table`, from the entity's table list ([C]
        evidence §2: full definitions with `id` and `name`), read once per client. The list's
        envelope key is [?]: the route's listKey, or a bare list."""
        with self._tables_lock:
            if table not in self._table_ids:
                listing = self.routes.request("listProfileTables", {"entity": self.entity})
                body = self.send(listing, call="GET profile tables", subject=self._about())
                key = listing.route.list_key
                listed = body.get(key) if isinstance(body, dict) and key else body
                if not isinstance(listed, list):
                    raise errors.bad_answer("GET profile tables", self._about(),
                                            "no list of profile tables")
                for entry in listed:
                    if isinstance(entry, dict) and entry.get("name") and entry.get("id"):
                        self._table_ids[str(entry["name"])] = str(entry["id"])
                if table not in self._table_ids:
                    names = ", ".join(sorted(self._table_ids)) or "none"
                    raise PermanentApiError(
                        f"profile table {table!r} not found in entity {self.entity} (its tables: "
                        f"{names}); set the destination's profileTable to one of these names",
                        destination=errors.DESTINATION, call="GET profile tables")
            return self._table_ids[table]

    def profile_table(self, table: str) -> dict[str, Any]:
        """[C] evidence §2: the table's structure, by its id."""
        return dict(self.send(self.request("getProfileTable", table=table),
                              call="GET profile table structure", subject=self._about(table)))

    def create_attribute(self, table: str, name: str, value_type: str) -> dict[str, Any]:
        """[I] route and body (evidence §3, [?] there): one custom attribute."""
        request = self.request("createAttribute", {"name": name, "valueType": value_type},
                               table=table)
        return dict(self.send(request, call="POST profile table attribute",
                              subject=f"{self._about(table)}, attribute {name}") or {})

    def find_profile(self, table: str, attribute: str, value: str) -> dict[str, Any] | None:
        """The profile whose unique `attribute` is `value`, or None. [C] route (evidence §5:
        `GET /profiles/v5/…/profile-tables/{profileTableId}/profiles/{profileKey}`); [I] the
        key as `attr=value` with the `=` literal (as v4 clients send it) and 404 for "no such
        profile" (the not-found status is [?]); [?] the answer's shape (only its presence is
        used)."""
        key = f"{quote(attribute, safe='')}={quote(str(value), safe='')}"
        try:
            return dict(self.send(self.request("getProfile", {"key": key}, table=table),
                                  call=f"GET profile by {attribute}",
                                  subject=self._about(table)))
        except PermanentApiError as exc:
            if exc.status == 404:
                return None
            raise

    def profiles_page(self, table: str, page: int, size: int,
                      attributes: list[str]) -> dict[str, Any]:
        """[I] route, [?] parameters and answer (evidence §4): one page of the v5 profile
        listing with only `attributes`; the adapter decides when the listing is complete."""
        values = {"page": page, "size": size, "attributes": ",".join(attributes)}
        return dict(self.send(self.request("listProfiles", values, table=table),
                              call="GET profiles page", subject=self._about(table)))

    def etl_definition(self, table: str, key_attribute: str,
                       columns: list[str]) -> dict[str, Any]:
        """The one-shot UPDATE_ONLY definition ([I] every key: the route's body template)."""
        values = {"tableId": self.table_id(table), "keyAttribute": key_attribute,
                  "columns": columns}
        return dict(self.request("startEtlExecution", values, table=table).body or {})

    def start_etl(self, definition: dict[str, Any], data_file: Path) -> str:
        """POST a one-shot ETL execution ([C] route, evidence §6) with the file at `data_file`;
        its id. A 429 still there after IMPORT_START_429_TRIES tries is QuotaExceededError."""
        request = self.request("startEtlExecution", {
            "tableName": definition.get("table"), "tableId": definition.get("table"),
            "keyAttribute": definition.get("keyAttribute"), "columns": []})
        text = json.dumps(definition)

        def parts() -> dict[str, Any]:
            return {"inputFile": (data_file.name, data_file.open("rb"), "application/zip"),
                    "parameters": (None, text, JSON)}

        return self._start_import(request, parts, "POST etl-executions",
                                  self._about(definition.get("table")))

    def _start_import(self, request: Request, parts: Callable[[], dict[str, Any]], call: str,
                      subject: str) -> str:
        """Start an import (a 429 retried briefly, then taken for the quota); its id."""
        refusals = 0

        def quota_after_tries(error: TransientApiError) -> bool:
            nonlocal refusals
            if error.status == 429:
                refusals += 1
            return refusals >= IMPORT_START_429_TRIES

        try:
            body = self.send(request, files=parts, call=call, subject=subject,
                             give_up=quota_after_tries)
        except TransientApiError as exc:
            if exc.status != 429:
                raise
            raise errors.quota_refusal(exc, subject, max(refusals, 1)) from exc
        if not isinstance(body, dict) or "id" not in body:
            raise errors.bad_answer(call, self._about(), "no execution id")
        return str(body["id"])

    def etl_execution(self, execution_id: str) -> dict[str, Any]:
        """[C] route (evidence §7: the webhook's `_links.etlExecution`); [?] its body."""
        request = self.request("getEtlExecution", {"execution": execution_id})
        return dict(self.send(request, call="GET etl-execution",
                              subject=f"{self._about()}, execution {execution_id}"))

    def wait_for_etl(self, execution_id: str, *, timeout_seconds: float,
                     poll_seconds: float = 2.0) -> dict[str, Any]:
        """Poll until the execution ends (SUCCESS or WITH_ERROR, in any spelling
        executions.py reads), not one look more; TransientApiError when `timeout_seconds`
        pass first."""
        deadline = time.monotonic() + timeout_seconds
        delays = poll_delays(poll_seconds)
        while True:
            execution = self.etl_execution(execution_id)
            if end_of(execution) is not None:
                return execution
            if time.monotonic() >= deadline:
                raise TransientApiError(
                    f"ETL execution {execution_id} still {raw_status(execution) or 'running'} "
                    f"after {timeout_seconds:.0f}s", destination=errors.DESTINATION,
                    call="GET etl-execution")
            time.sleep(next(delays))

    def listing(self, operation: str) -> list[dict[str, Any]]:
        """Every record of a listing operation ([I] routes, evidence §8)."""
        request = self.request(operation)
        body = self.send(request, call=f"GET {operation}", subject=self._about())
        key = request.route.list_key
        listed = body.get(key) if isinstance(body, dict) and key else body
        return [r for r in listed or [] if isinstance(r, dict)]

    def create(self, operation: str, values: dict[str, Any], *,
               table: str | None = None) -> str:
        """[I] routes (evidence §8): create a record from the operation's body template; its
        id."""
        request = self.request(operation, values, table=table)
        body = self.send(request, call=f"POST {operation}",
                         subject=f"{self._about()}, {values.get('name')!r}")
        return str((body or {}).get("id"))

    def delete(self, operation: str, record_id: str) -> None:
        """[I] routes (evidence §8): delete a record by id."""
        self.send(self.request(operation, {"id": record_id}), call=f"DELETE {operation}",
                  subject=f"{self._about()}, id {record_id}")

    def record(self, operation: str, record_id: str) -> dict[str, Any]:
        return dict(self.send(self.request(operation, {"id": record_id}),
                              call=f"GET {operation}",
                              subject=f"{self._about()}, id {record_id}"))

    def _about(self, table: str | None = None) -> str:
        return f"entity {self.entity}" + (f", table {table}" if table else "")

    def trigger_etl(self, etl_id: str, data_file: Path) -> str:
        """Run the ETL definition `etl_id` (created once in the portal) on `data_file`; the
        execution's id. [C] route (evidence §6: `POST …/etls/{etlId}/trigger-execution` pushes
        only the data file to a predefined ETL); [I] the part name `inputFile` (the v4 import's,
        as `start_etl` sends it); [?] the answer (read as `start_etl`'s, `{id}`). A 429 still
        there after IMPORT_START_429_TRIES tries is QuotaExceededError, as for `start_etl`."""
        def parts() -> dict[str, Any]:
            return {"inputFile": (data_file.name, data_file.open("rb"), "application/zip")}

        return self._start_import(self.request("triggerEtl", {"etl": etl_id}), parts,
                                  "POST trigger-execution", f"{self._about()}, ETL {etl_id}")
