"""The Actito REST routes of the data model and single profiles ([C] unless inferred.py says).

entities (§2.0), profile tables and their structure (§2.1), custom attribute creation (§2.2, [I]),
profiles by id or unique attribute and upsert with `allowUpdate` (§2.3, §2.4), v5 paged listing.
ETL executions live in etl.py, file transfer and target lists in targetlists.py.
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request, not_found, now_text
from reconciler.sandbox.actito.store import TECHNICAL, Table
from reconciler.sandbox.actito.values import parse_value
from reconciler.sandbox.http import Request, Response

TABLES_V5 = "/v5/entities/{entity}/profile-tables"
PROFILE_V4 = "/v4/entity/{entity}/table/{table}/profile"
ATTRIBUTE_NAME_MAX = 50


def _table_body(table: Table) -> dict[str, Any]:
    return {"id": table.id, "name": table.name, "attributes": table.attributes,
            "displayOptions": {"forAttributes": []}}


def register_model(routes: Routes) -> None:
    """Entities, tables and the table structure."""
    store = routes.store

    def entities(request: Request) -> Response:
        listed = [{"id": e.id, "name": e.name, "comment": None} for e in store.entities.values()]
        return Response(200, {"entities": listed})

    def tables(request: Request) -> Response:
        found = [_table_body(t) for t in routes.entity(request).tables.values()]
        return Response(200, {"profileTables": found})

    def table(request: Request) -> Response:
        return Response(200, _table_body(routes.table(request)))

    def create_attribute(request: Request) -> Response:
        found = routes.table(request)
        attribute = _checked_attribute(routes.json_body(request), found)
        with store.lock:
            found.attributes.append(attribute)
            store.save()
        return Response(201, attribute, {"Location": f"{request.path}/{attribute['name']}"})

    routes.add("GET", "entities", "/v5/entities", entities)
    routes.add("GET", "entities", "/v4/entity", entities)
    routes.add("GET", "profile-table-structure", TABLES_V5, tables)
    routes.add("GET", "profile-table-structure", "/v4/entity/{entity}/table", tables)
    routes.add("GET", "profile-table-structure", TABLES_V5 + "/{table}", table)
    routes.add("POST", "profile-table-structure", inferred.ATTRIBUTE_CREATE, create_attribute)


def _checked_attribute(body: dict[str, Any], table: Table) -> dict[str, Any]:
    name = str(body.get("name") or "")
    if not name or len(name) > ATTRIBUTE_NAME_MAX or not name.replace("_", "").isalnum():
        raise bad_request(f"attribute name must be 1-{ATTRIBUTE_NAME_MAX} letters or digits")
    if table.attribute(name) is not None:
        raise ApiProblem(409, "CONFLICT", f"attribute {name} already exists")
    if body.get("type", "CUSTOM") != "CUSTOM":
        raise bad_request("only CUSTOM attributes can be added")
    value_type = str(body.get("valueType") or "")
    if value_type not in ("STRING", "INTEGER", "DECIMAL", "BOOLEAN", "DATE", "TIMESTAMP"):
        raise bad_request(f"unknown valueType {value_type!r}")
    if body.get("mandatory"):
        raise bad_request("a new attribute cannot be mandatory on a table with profiles")
    attribute = {"type": "CUSTOM", "name": name, "unique": bool(body.get("unique")),
                 "mandatory": False, "valueType": value_type,
                 "multiValued": bool(body.get("multiValued"))}
    if body.get("valueRestriction"):
        attribute["valueRestriction"] = body["valueRestriction"]
    return attribute


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


def register_profiles(routes: Routes) -> None:
    """Single profiles (v4) and the paged v5 listing."""
    store = routes.store

    def get_one(request: Request) -> Response:
        table = routes.table(request)
        with store.lock:  # an ETL may be writing the table meanwhile
            pid = _locate(table, request.params["key"])
            return Response(200, inferred.profile_body(pid, dict(table.profiles[pid])))

    def upsert(request: Request) -> Response:
        table = routes.table(request)
        values = _values(table, routes.json_body(request))
        allow_update = (request.arg("allowUpdate") or "").lower() == "true"
        with store.lock:
            keys = [n for n in table.unique_names() if values.get(n) not in (None, "")]
            existing = next((p for n in keys if (p := table.find(n, values[n])) is not None), None)
            if existing is not None and not allow_update:
                raise ApiProblem(409, "CONFLICT", "a profile with this unique key already exists")
            if table.conflicts(values, existing):
                raise ApiProblem(409, "CONFLICT", "unique values belong to different profiles")
            if existing is not None:
                table.update(existing, values, now_text())
            else:
                missing = [a["name"] for a in table.attributes
                           if a.get("mandatory") and a["name"] not in TECHNICAL
                           and values.get(a["name"]) in (None, "")]
                if missing:
                    raise bad_request(f"mandatory attributes missing: {', '.join(missing)}")
                existing = table.create(values, now_text())
            store.save()
        return Response(200, {"profileId": existing})

    def update_one(request: Request) -> Response:
        table = routes.table(request)
        values = _values(table, routes.json_body(request))
        with store.lock:
            pid = _locate(table, request.params["key"])
            if table.conflicts(values, pid):
                raise ApiProblem(409, "CONFLICT", "unique values belong to another profile")
            table.update(pid, values, now_text())
            store.save()
        return Response(200, {"profileId": pid})

    def delete_one(request: Request) -> Response:
        table = routes.table(request)
        with store.lock:
            table.delete(_locate(table, request.params["key"]))
            store.save()
        return Response(204)

    routes.add("GET", "profiles", PROFILE_V4 + "/{key}", get_one)
    routes.add("PUT", "profiles", PROFILE_V4 + "/{key}", update_one)
    routes.add("DELETE", "profiles", PROFILE_V4 + "/{key}", delete_one)
    routes.add("POST", "profiles", PROFILE_V4, upsert)
    routes.add("GET", "profiles", inferred.PROFILES_V5, lambda r: _page(routes, r))


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
