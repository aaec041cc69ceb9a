"""REST routes of file transfer locations, file synchronizations and external target lists.

All [I] (§2.8 found no public routes or bodies): paths are in inferred.py, bodies here.
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request, not_found
from reconciler.sandbox.actito.targetlists import (
    TargetListSync,
    list_view,
    pattern_regex,
    validity_seconds,
)
from reconciler.sandbox.http import Request, Response

PROTOCOLS = ("FTPS", "SFTP", "FTP")


def _required(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "")]
    if missing:
        raise bad_request(f"missing fields: {', '.join(missing)}")


def _create(routes: Routes, collection: dict[str, dict[str, Any]],
            record: dict[str, Any], request: Request) -> Response:
    if any(r["name"] == record["name"] and r.get("entity") == record.get("entity")
           for r in collection.values()):
        raise ApiProblem(409, "CONFLICT", f"{record['name']!r} already exists")
    record["id"] = routes.store.new_id()
    collection[record["id"]] = record
    routes.store.save()
    return Response(201, {"id": record["id"]}, {"Location": f"{request.path}/{record['id']}"})


def register_transfer_routes(routes: Routes, syncer: TargetListSync) -> None:
    store = routes.store
    family = inferred.FILE_TRANSFER_FAMILY

    def locations(request: Request) -> Response:
        routes.entity(request)
        return Response(200, {"fileTransferLocations": list(store.locations.values())})

    def create_location(request: Request) -> Response:
        routes.entity(request)
        body = routes.json_body(request)
        _required(body, "name", "protocol", "host", "port", "username")
        if body["protocol"] not in PROTOCOLS:
            raise bad_request(f"protocol must be one of {', '.join(PROTOCOLS)}")
        fields = ("name", "protocol", "host", "port", "username", "directory")
        record = {k: body.get(k) for k in fields}
        with store.lock:
            return _create(routes, store.locations, record, request)

    def synchronizations(request: Request) -> Response:
        routes.entity(request)
        return Response(200, {"fileSynchronizations": list(store.synchronizations.values())})

    def create_synchronization(request: Request) -> Response:
        entity = routes.entity(request)
        body = routes.json_body(request)
        _required(body, "name", "locationId", "fileNamePattern")
        if str(body["locationId"]) not in store.locations:
            raise not_found(f"file transfer location {body['locationId']}")
        pattern_regex(str(body["fileNamePattern"]))
        record = {"entity": entity.name, "name": body["name"],
                  "locationId": str(body["locationId"]),
                  "fileNamePattern": body["fileNamePattern"],
                  "encoding": body.get("encoding", "UTF-8")}
        with store.lock:
            return _create(routes, store.synchronizations, record, request)

    def one(collection: dict[str, dict[str, Any]], param: str, what: str) -> dict[str, Any]:
        record = collection.get(param)
        if record is None:
            raise not_found(f"{what} {param}")
        return record

    routes.add("GET", family, inferred.LOCATIONS, locations)
    routes.add("POST", family, inferred.LOCATIONS, create_location)
    routes.add("GET", family, inferred.SYNCHRONIZATIONS, synchronizations)
    routes.add("POST", family, inferred.SYNCHRONIZATIONS, create_synchronization)
    routes.add("GET", family, inferred.SYNCHRONIZATIONS + "/{sync}", lambda r: Response(
        200, one(store.synchronizations, r.params["sync"], "file synchronization")))
    _register_lists(routes, syncer)


def _register_lists(routes: Routes, syncer: TargetListSync) -> None:
    store = routes.store
    family = inferred.TARGETING_FAMILY

    def lists(request: Request) -> Response:
        entity = routes.entity(request)
        syncer.scan()
        with store.lock:
            found = [list_view(r) for r in store.target_lists.values()
                     if r["entity"] == entity.name]
        return Response(200, {"externalTargetLists": found})

    def create_list(request: Request) -> Response:
        entity = routes.entity(request)
        body = routes.json_body(request)
        _required(body, "name", "profileTable", "fileSynchronizationId", "keyAttribute",
                  "validityPeriod")
        table = entity.table(str(body["profileTable"]))
        if table is None:
            raise not_found(f"profile table {body['profileTable']}")
        if body["keyAttribute"] not in [*table.unique_names()]:
            raise bad_request(f"{body['keyAttribute']} is not a unique attribute")
        if str(body["fileSynchronizationId"]) not in store.synchronizations:
            raise not_found(f"file synchronization {body['fileSynchronizationId']}")
        record = {"entity": entity.name, "name": body["name"], "profileTable": table.name,
                  "fileSynchronizationId": str(body["fileSynchronizationId"]),
                  "keyAttribute": body["keyAttribute"], "validityPeriod": body["validityPeriod"],
                  "validitySeconds": validity_seconds(body["validityPeriod"]),
                  "lastFileName": None, "lastRetrievedAt": None, "lastRetrievedEpoch": None,
                  "lastReport": None, "memberIds": []}
        with store.lock:
            answer = _create(routes, store.target_lists, record, request)
        syncer.scan()
        return answer

    def record_of(request: Request) -> dict[str, Any]:
        routes.entity(request)
        syncer.scan()
        record = store.target_lists.get(request.params["list"])
        if record is None:
            raise not_found(f"external target list {request.params['list']}")
        return record

    def delete_list(request: Request) -> Response:
        record = record_of(request)
        with store.lock:
            del store.target_lists[record["id"]]
            store.save()
        return Response(204)

    def one(request: Request) -> Response:
        with store.lock:
            return Response(200, list_view(record_of(request)))

    def members(request: Request) -> Response:
        with store.lock:
            record = record_of(request)
            ids = list(record["memberIds"]) if list_view(record)["status"] == "ACTIVE" else []
        page, size = int(request.arg("page", "0") or 0), int(request.arg("size", "1000") or 1000)
        return Response(200, {"profileIds": ids[page * size:(page + 1) * size],
                              "page": {"number": page, "size": size, "totalElements": len(ids)}})

    one_list = inferred.TARGET_LISTS + "/{list}"
    routes.add("GET", family, inferred.TARGET_LISTS, lists)
    routes.add("POST", family, inferred.TARGET_LISTS, create_list)
    routes.add("GET", family, one_list, one)
    routes.add("DELETE", family, one_list, delete_list)
    routes.add("GET", family, inferred.TARGET_LIST_MEMBERS, members)
