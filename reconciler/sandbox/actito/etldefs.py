"""Predefined ETLs, as if created once in the Actito portal: what
`POST /mass-imports/v5/entities/{e}/etls/{etlId}/trigger-execution` runs on a pushed data file
([C] evidence §6: "pushes only the data file to a predefined ETL"), and their listing
`GET /mass-imports/v5/entities/{e}/etls` ([C] evidence §6, the api-key page's example; the
`mass-imports` prefix is [I] from the HAL links).

How an ETL is created is [?] (by API "a one-off call", route and body unknown; or in the
portal), so the sandbox serves no create route: `load_etl_definitions` stores them from a
setup file (portal.py reads it). The stored shape is the sandbox's own ([I]):
`{id, name, entity, table (name or id), mode, keyAttribute, columns}`, `columns` being the
attributes the file maps besides the key. The trigger route itself is in etl.py.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import Routes, bad_request, not_found
from reconciler.sandbox.actito.store import Entity, Store
from reconciler.sandbox.http import Request, Response

ETLS = "/v5/entities/{entity}/etls"
TRIGGER = ETLS + "/{etl}/trigger-execution"
# [?] the envelope of the ETL list: `{etls: [...]}` here.
LIST_KEY = "etls"


class EtlDefinitionError(ValueError):
    """An ETL definition the sandbox cannot store: the message says which entry and why."""


def load_etl_definitions(store: Store, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store each entry (`id` optional, `name`, `entity` optional when the store has one,
    `table` by name or id, `mode` default UPDATE_ONLY, `keyAttribute`, `columns`) as an ETL
    definition, replacing one of the same id; the definitions stored. EtlDefinitionError
    naming the entry for a table, key or column the entity does not have (then none is
    stored)."""
    with store.lock:
        stored = [_definition(store, entry, f"ETL definition {number}")
                  for number, entry in enumerate(entries, start=1)]
        store.etls.update((d["id"], d) for d in stored)
        store.save()
    return stored


def _definition(store: Store, entry: dict[str, Any], where: str) -> dict[str, Any]:
    entity = _entity(store, entry.get("entity"), where)
    ref = str(entry.get("table") or "")
    table = entity.table_by_id(ref) or entity.table(ref)
    if table is None:
        raise EtlDefinitionError(f"{where}: no profile table {ref!r} in entity {entity.name}")
    mode = str(entry.get("mode") or "UPDATE_ONLY")
    if mode not in inferred.ETL_MODES:
        raise EtlDefinitionError(f"{where}: mode must be one of {', '.join(inferred.ETL_MODES)}")
    key = str(entry.get("keyAttribute") or "")
    if key not in table.unique_names():
        raise EtlDefinitionError(f"{where}: keyAttribute {key!r} is not a unique attribute of "
                                 f"table {table.name}")
    columns = entry.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise EtlDefinitionError(f"{where}: columns must be a list of attribute names")
    unknown = [c for c in columns if table.attribute(c) is None]
    if unknown:
        raise EtlDefinitionError(f"{where}: table {table.name} has no attribute "
                                 f"{', '.join(unknown)}")
    etl_id = str(entry.get("id") or store.new_id())
    return {"id": etl_id, "name": str(entry.get("name") or f"etl-{etl_id}"),
            "entity": entity.name, "table": ref, "mode": mode, "keyAttribute": key,
            "columns": [c for c in columns if c != key]}


def _entity(store: Store, name: Any, where: str) -> Entity:
    if name is None and len(store.entities) == 1:
        return next(iter(store.entities.values()))
    entity = store.entity(str(name)) if name is not None else None
    if entity is None:
        raise EtlDefinitionError(f"{where}: name its entity ({', '.join(store.entities)})"
                                 if name is None else f"{where}: no entity {name!r}")
    return entity


def find_definition(store: Store, entity: Entity, etl_id: str) -> dict[str, Any]:
    """The entity's ETL `etl_id`; 404 when there is none."""
    with store.lock:
        definition = store.etls.get(etl_id)
        if definition is None or definition["entity"].lower() != entity.name.lower():
            raise not_found(f"ETL {etl_id}")
        return dict(definition)


def check_header(definition: dict[str, Any], header: list[str]) -> None:
    """400 unless the file's columns are the definition's key and columns (in any order:
    [C] evidence §6, a file is mapped by its header)."""
    expected = [definition["keyAttribute"], *definition["columns"]]
    if sorted(header) != sorted(expected):
        raise bad_request(f"the file's columns ({', '.join(header)}) do not match those of ETL "
                          f"{definition['id']} ({', '.join(expected)})")


def _list(routes: Routes, request: Request) -> Response:
    entity = routes.entity(request)
    with routes.store.lock:
        listed = [dict(d) for d in routes.store.etls.values()
                  if d["entity"].lower() == entity.name.lower()]
    return Response(200, {LIST_KEY: listed})


def register_etl_list(routes: Routes, family: str) -> None:
    routes.add("GET", family, ETLS, partial(_list, routes))
