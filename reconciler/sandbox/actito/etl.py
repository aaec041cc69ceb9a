"""v5 ETL executions (evidence §6): one-shot (`POST …/etl-executions`, a multipart upload of
the data file and a definition) and triggered (`POST …/etls/{etlId}/trigger-execution`, the
data file only, run with a predefined ETL: etldefs.py); the limits that refuse them (100 MB →
400, the daily bulk quota → 429 with a body that says nothing of it, a zip of several CSVs →
400: [C] "For each target table, provide one CSV file"), the background run (validation, then
write) and its status, ending SUCCESS or WITH_ERROR ([C] evidence §7). Both kinds run alike.

The definition's keys and the status shape are [I] (see inferred.py); the file rules are [C].
"""
from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import UTC
from functools import partial
from typing import Any

from reconciler.sandbox.actito import etldefs, inferred
from reconciler.sandbox.actito.datafile import FileRefused, read_csv, unpack
from reconciler.sandbox.actito.etlrun import apply_lines
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request, not_found, now_text
from reconciler.sandbox.actito.store import Entity, Table
from reconciler.sandbox.http import Request, Response

EXECUTIONS = "/v5/entities/{entity}/etl-executions"
FAMILY = "mass-imports"
# [C] evidence §7: the end values of `etl.executionStatus` in the FINISHED webhook.
SUCCESS, WITH_ERROR = "SUCCESS", "WITH_ERROR"


def split_multipart(request: Request) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (binary-safe)."""
    content_type = request.headers.get("content-type", "")
    boundary = next((p.split("=", 1)[1].strip('"') for p in content_type.split(";")
                     if p.strip().startswith("boundary=")), None)
    if not content_type.startswith("multipart/form-data") or not boundary:
        raise ApiProblem(415, "UNSUPPORTED_MEDIA_TYPE", "multipart/form-data is required")
    parts: dict[str, bytes] = {}
    for chunk in request.body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.partition(b"\r\n\r\n")
        disposition = next((line for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition")), "")
        name = next((p.split("=", 1)[1].strip().strip('"') for p in disposition.split(";")
                     if p.strip().startswith("name=")), None)
        if name:
            parts[name] = content[:-2] if content.endswith(b"\r\n") else content
    return parts


def _definition(parts: dict[str, bytes]) -> dict[str, Any]:
    raw = parts.get(inferred.ETL_DEFINITION_PART)
    if raw is None or inferred.ETL_FILE_PART not in parts:
        raise bad_request(f"parts {inferred.ETL_FILE_PART!r} and "
                          f"{inferred.ETL_DEFINITION_PART!r} are required")
    try:
        definition = json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"the ETL definition is not JSON: {exc}") from None
    if not isinstance(definition, dict):
        raise bad_request("the ETL definition must be a JSON object")
    if definition.get("mode") not in inferred.ETL_MODES:
        raise bad_request(f"mode must be one of {', '.join(inferred.ETL_MODES)}")
    if not definition.get("keyAttribute"):
        raise bad_request("keyAttribute is required")
    return definition


def _destination(routes: Routes, entity: Entity, definition: dict[str, Any]) -> Table:
    table = routes.table_in_body(entity, str(definition.get("table") or ""))
    if definition["keyAttribute"] not in table.unique_names():
        raise bad_request(f"{definition['keyAttribute']} is not a unique attribute")
    return table


def _record(routes: Routes, entity: Entity, table: Table, definition: dict[str, Any]) -> str:
    """Count the import against the daily quota (429 when used up) and record it as RUNNING."""
    store, limit = routes.store, routes.config.bulk_imports_per_day
    with store.lock:
        quota_key = f"{table.name}|{routes.config.clock.now().astimezone(UTC).date().isoformat()}"
        used = store.bulk_counts.get(quota_key, 0)
        if inferred.ETL_COUNTS_AS_BULK and used >= limit:
            raise ApiProblem(429, "TOO_MANY_REQUESTS", inferred.QUOTA_REFUSAL_MESSAGE)
        store.bulk_counts[quota_key] = used + 1
        execution_id = store.new_id()
        store.etl_executions[execution_id] = {
            "id": execution_id, "entity": entity.name, "table": table.name,
            "mode": definition["mode"], "keyAttribute": definition["keyAttribute"],
            inferred.ETL_STATUS_FIELD: inferred.ETL_RUNNING,
            "createdAt": now_text(routes.config.clock),
            "finishedAt": None,
            "counters": {}, "rejectedLines": [], "errors": [],
        }
        store.save()
    return execution_id


def _create(routes: Routes, request: Request) -> Response:
    entity = routes.entity(request)
    parts = split_multipart(request)
    definition = _definition(parts)
    data = _data_file(routes, parts)
    table = _destination(routes, entity, definition)
    return _start(routes, entity, table, definition, data, "etl-executions")


def _trigger(routes: Routes, request: Request) -> Response:
    """[C] evidence §6: run a predefined ETL on the pushed data file (the only part)."""
    entity = routes.entity(request)
    definition = etldefs.find_definition(routes.store, entity, request.params["etl"])
    data = _data_file(routes, split_multipart(request))
    try:
        header = read_csv(unpack(data)[0]).header
    except FileRefused:
        header = None  # a file Actito would refuse whole: the run says why
    if header is not None:
        etldefs.check_header(definition, header)
    table = _destination(routes, entity, definition)
    return _start(routes, entity, table, definition, data, "etl-executions")


def _data_file(routes: Routes, parts: dict[str, bytes]) -> bytes:
    """The data part, refused (400) over the size cap or when a zip holds several CSVs."""
    data = parts.get(inferred.ETL_FILE_PART)
    if data is None:
        raise bad_request(f"part {inferred.ETL_FILE_PART!r} is required")
    if len(data) > routes.config.max_file_bytes:
        raise bad_request(f"the file exceeds the {routes.config.max_file_bytes} bytes limit")
    if _csv_count(data) > 1:
        raise bad_request("the zip holds several CSV files: an execution takes one CSV file "
                          "per target table")
    return data


def _csv_count(data: bytes) -> int:
    """How many files a zip holds (1 for anything else, or a corrupt zip: the run refuses it)."""
    if data[:4] != b"PK\x03\x04":
        return 1
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(1 for n in archive.namelist() if not n.endswith("/"))
    except zipfile.BadZipFile:
        return 1


def _start(routes: Routes, entity: Entity, table: Table, definition: dict[str, Any],
           data: bytes, collection: str) -> Response:
    execution_id = _record(routes, entity, table, definition)
    timer = threading.Timer(routes.config.etl_delay_seconds, _run,
                            (routes, execution_id, definition, data))
    timer.daemon = True
    timer.start()
    location = f"/{FAMILY}/v5/entities/{entity.name}/{collection}/{execution_id}"
    return Response(201, {"id": execution_id}, {"Location": location})


def _status(routes: Routes, request: Request) -> Response:
    routes.entity(request)
    with routes.store.lock:
        execution = routes.store.etl_executions.get(request.params["execution"])
        if execution is None:
            raise not_found(f"ETL execution {request.params['execution']}")
        return Response(200, dict(execution))


def register_etl(routes: Routes) -> None:
    routes.add("POST", FAMILY, EXECUTIONS, partial(_create, routes))
    routes.add("GET", FAMILY, inferred.ETL_EXECUTION, partial(_status, routes))
    routes.add("POST", FAMILY, etldefs.TRIGGER, partial(_trigger, routes))
    etldefs.register_etl_list(routes, FAMILY)


def _run(routes: Routes, execution_id: str, definition: dict[str, Any], data: bytes) -> None:
    """Validation then write, as one step. The record ends SUCCESS, or WITH_ERROR when lines
    were rejected (counters and rejected lines) or the file was refused whole (errors only).
    The outcome is saved before it is shown, so an ended execution survives a restart."""
    store = routes.store
    execution = store.etl_executions[execution_id]
    file_options = definition.get("file") or {}
    with store.lock:
        try:
            files = [read_csv(payload, encoding=file_options.get("encoding", "UTF-8"),
                              separator=file_options.get("separator", ","))
                     for payload in unpack(data)]
            entity = store.entity(execution["entity"])
            table = entity.table(execution["table"]) if entity else None
            if table is None:
                raise FileRefused("the destination table no longer exists")
            stamp = now_text(routes.config.clock)
            counters, rejected = apply_lines(table, files, definition, stamp)
            outcome = {"counters": counters, "rejectedLines": rejected[:1000],
                       inferred.ETL_STATUS_FIELD: WITH_ERROR if rejected else SUCCESS}
        except FileRefused as exc:
            outcome = {inferred.ETL_STATUS_FIELD: WITH_ERROR, "errors": [str(exc)]}
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must end the run, not hang
            outcome = {inferred.ETL_STATUS_FIELD: WITH_ERROR,
                       "errors": [f"sandbox error: {exc}"]}
        execution.update(outcome, finishedAt=now_text(routes.config.clock))
        store.save()  # under the lock the status route also takes: saved before it is shown
