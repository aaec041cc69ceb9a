"""The Actito REST routes of the data model ([C] unless inferred.py says): entities (§2.0),
profile tables and their structure (§2.1; one table by its id), custom attribute creation
(§2.2, [I]).

Profiles live in profiles.py, ETL executions in etl.py, file transfer and target lists in
transferroutes.py.
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request
from reconciler.sandbox.actito.store import Table
from reconciler.sandbox.http import Request, Response

TABLES_V5 = "/v5/entities/{entity}/profile-tables"
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
        return Response(200, {inferred.TABLE_LIST_KEY: found})

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
    routes.add("GET", "profile-table-structure", TABLES_V5, tables)
    routes.add("GET", "profile-table-structure", TABLES_V5 + "/{table}", table)  # {table}: id
    routes.add("POST", "profile-table-structure", inferred.ATTRIBUTE_CREATE, create_attribute,
               documented=False)


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
