"""The Actito REST routes of single profiles ([C] unless inferred.py says): get by id or by a
unique attribute (`profile/customerId=…`, §2.3), upsert with `allowUpdate`, update and delete
(§2.4), and the paged v5 listing ([?]).
"""
from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request, not_found, now_text
from reconciler.sandbox.actito.store import TECHNICAL, Table
from reconciler.sandbox.actito.values import parse_value
from reconciler.sandbox.http import Request, Response

PROFILE_V4 = "/v4/entity/{entity}/table/{table}/profile"


def _locate(table: Table, key: str) -> int:
    """`{profileId}` or `{uniqueAttribute}={value}` (§2.3)."""
    name, sep, value = key.partition("=")
    if not sep:
        name, value = "profileId", key
    if name != "profileId" and name not in table.unique_names():
        raise bad_request(f"{name} is not a unique attribute of {table.name}")
    pid = table.find(name, value)
    if pid is None:
        raise not_found("profile")
    return pid


def _values(table: Table, body: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in body.get("attributes") or []:
        name = item.get("name")
        attribute = table.attribute(name)
        if attribute is None:
            raise bad_request(f"unknown attribute {name}")
        if name in TECHNICAL:
            raise bad_request(f"technical attribute {name} cannot be written")
        try:
            values[name] = parse_value(attribute, item.get("value"))
        except ValueError as exc:
            raise bad_request(f"attribute {name}: {exc}") from None
    return values


def _get_one(routes: Routes, request: Request) -> Response:
    table = routes.table(request)
    with routes.store.lock:  # an ETL may be writing the table meanwhile
        pid = _locate(table, request.params["key"])
        return Response(200, inferred.profile_body(pid, dict(table.profiles[pid])))


def _create(table: Table, values: dict[str, Any], stamp: str) -> int:
    missing = [a["name"] for a in table.attributes
               if a.get("mandatory") and a["name"] not in TECHNICAL
               and values.get(a["name"]) in (None, "")]
    if missing:
        raise bad_request(f"mandatory attributes missing: {', '.join(missing)}")
    return table.create(values, stamp)


def _upsert(routes: Routes, request: Request) -> Response:
    """POST: creates; with allowUpdate=true, updates the profile a unique value matches."""
    table = routes.table(request)
    values = _values(table, routes.json_body(request))
    allow_update = (request.arg("allowUpdate") or "").lower() == "true"
    with routes.store.lock:
        keys = [n for n in table.unique_names() if values.get(n) not in (None, "")]
        existing = next((p for n in keys if (p := table.find(n, values[n])) is not None), None)
        if existing is not None and not allow_update:
            raise ApiProblem(409, "CONFLICT", "a profile with this unique key already exists")
        if table.conflicts(values, existing):
            raise ApiProblem(409, "CONFLICT", "unique values belong to different profiles")
        if existing is not None:
            table.update(existing, values, now_text(routes.config.clock))
        else:
            existing = _create(table, values, now_text(routes.config.clock))
        routes.store.save()
    return Response(200, {"profileId": existing})


def _update_one(routes: Routes, request: Request) -> Response:
    table = routes.table(request)
    values = _values(table, routes.json_body(request))
    with routes.store.lock:
        pid = _locate(table, request.params["key"])
        if table.conflicts(values, pid):
            raise ApiProblem(409, "CONFLICT", "unique values belong to another profile")
        table.update(pid, values, now_text(routes.config.clock))
        routes.store.save()
    return Response(200, {"profileId": pid})


def _delete_one(routes: Routes, request: Request) -> Response:
    table = routes.table(request)
    with routes.store.lock:
        table.delete(_locate(table, request.params["key"]))
        routes.store.save()
    return Response(204)


def register_profiles(routes: Routes) -> None:
    """Single profiles (v4) and the paged v5 listing."""
    routes.add("GET", "profiles", PROFILE_V4 + "/{key}", partial(_get_one, routes))
    routes.add("PUT", "profiles", PROFILE_V4 + "/{key}", partial(_update_one, routes))
    routes.add("DELETE", "profiles", PROFILE_V4 + "/{key}", partial(_delete_one, routes))
    routes.add("POST", "profiles", PROFILE_V4, partial(_upsert, routes))
    routes.add("GET", "profiles", inferred.PROFILES_V5, partial(_page, routes))


def _page(routes: Routes, request: Request) -> Response:
    """[?] v5 listing: `page`/`size` paging in profile id order, optional `attributes` filter."""
    table = routes.table(request)
    try:
        page = int(request.arg("page", "0") or 0)
        size = int(request.arg("size", "100") or 100)
    except ValueError:
        raise bad_request("page and size must be integers") from None
    if page < 0 or not 1 <= size <= inferred.PAGE_SIZE_MAX:
        raise bad_request(f"size must be 1-{inferred.PAGE_SIZE_MAX}, page >= 0")
    wanted = [a for a in (request.arg("attributes") or "").split(",") if a]
    with routes.store.lock:
        ids = sorted(table.profiles)
        chosen = [(pid, table.profiles[pid]) for pid in ids[page * size:(page + 1) * size]]
    profiles = [
        inferred.profile_body(pid, {k: v for k, v in values.items() if not wanted or k in wanted})
        for pid, values in chosen
    ]
    total_pages = (len(ids) + size - 1) // size
    return Response(200, {"profiles": profiles, "page": {
        "number": page, "size": size, "totalElements": len(ids), "totalPages": total_pages}})
