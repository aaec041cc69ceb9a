"""What a user sets up once in the Actito portal, loaded into a new sandbox store: custom
attributes, file synchronizations (on a location, by its name), external target lists and
ETL definitions. It stands for the documented set-up path ([C] evidence §8: a list, its file
synchronization and its location are set up once; §6: an ETL is defined once and triggered),
so a client can use them without any undocumented call.

The file is JSON (the example project's `data/actito-portal.json`):

    {"attributes": [{"name": "churnScore", "valueType": "DECIMAL"}],
     "synchronizations": [{"name": "churn-keys", "location": "sandbox-ftps",
                           "fileNamePattern": "churn_risk_$yyyyMMddHHmmss.zip"}],
     "targetLists": [{"id": "501", "name": "Churn risk", "keyAttribute": "customerId",
                      "validityPeriod": {"value": 2, "unit": "DAYS"},
                      "synchronization": "churn-keys"}],
     "etls": [{"id": "601", "name": "churn-score", "keyAttribute": "customerId",
               "columns": ["customerId", "churnScore"]}]}
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.sandbox.actito.etldefs import load_etl_definitions
from reconciler.sandbox.actito.routing import ApiProblem
from reconciler.sandbox.actito.store import Store, Table
from reconciler.sandbox.actito.targetlists import pattern_regex, validity_seconds


class PortalFileError(ReconcilerError):
    """The sandbox's portal set-up file cannot be read."""

    hint = "fix the file (its format is in reconciler/sandbox/actito/portal.py) or leave it out"


def load_portal(store: Store, path: Path, table: Table, entity: str) -> None:
    """Add what `path` describes to a new store (a list's synchronization and location are
    found by name; a location missing yet is created, its address set when servers start)."""
    try:
        setup = json.loads(path.read_text(encoding="utf-8"))
        for raw in setup.get("attributes", []):
            if table.attribute(raw["name"]) is None:
                table.attributes.append({
                    "type": "CUSTOM", "name": raw["name"], "unique": False, "mandatory": False,
                    "valueType": raw["valueType"], "multiValued": False})
        syncs = {raw["name"]: _synchronization(store, raw, entity)
                 for raw in setup.get("synchronizations", [])}
        for raw in setup.get("targetLists", []):
            _target_list(store, raw, syncs, table, entity)
        load_etl_definitions(store, list(setup.get("etls", [])))
    except (OSError, ValueError, KeyError, TypeError, ApiProblem) as exc:
        raise PortalFileError(f"the Actito sandbox's portal file {path}: {exc!r}") from exc


def _location_id(store: Store, name: str) -> str:
    found = next((r for r in store.locations.values() if r["name"] == name), None)
    if found is None:
        found = {"id": store.new_id(), "name": name, "directory": "/"}
        store.locations[found["id"]] = found
    return str(found["id"])


def _synchronization(store: Store, raw: dict[str, Any], entity: str) -> str:
    pattern_regex(str(raw["fileNamePattern"]))
    record = {"id": str(raw.get("id") or store.new_id()), "entity": entity, "name": raw["name"],
              "locationId": _location_id(store, str(raw["location"])),
              "fileNamePattern": raw["fileNamePattern"],
              "encoding": raw.get("encoding", "UTF-8")}
    store.synchronizations[record["id"]] = record
    return record["id"]


def _target_list(store: Store, raw: dict[str, Any], syncs: dict[str, str], table: Table,
                 entity: str) -> None:
    if raw["keyAttribute"] not in table.unique_names():
        raise ValueError(f"list {raw['name']!r}: {raw['keyAttribute']} is not unique")
    record = {"id": str(raw.get("id") or store.new_id()), "entity": entity,
              "name": raw["name"], "description": raw.get("description"),
              "profileTable": table.name, "fileSynchronizationId": syncs[raw["synchronization"]],
              "keyAttribute": raw["keyAttribute"], "validityPeriod": raw["validityPeriod"],
              "validitySeconds": validity_seconds(raw["validityPeriod"]),
              "lastFileName": None, "lastRetrievedAt": None, "lastRetrievedEpoch": None,
              "lastReport": None, "memberIds": []}
    store.target_lists[record["id"]] = record
