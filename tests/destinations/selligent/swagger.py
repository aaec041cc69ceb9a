"""Checks recorded Selligent traffic (requests and answers) against the vendor's Swagger 2.0.

The document itself is first checked with openapi-spec-validator; each message is then checked
with jsonschema (Draft 4, the dialect of Swagger 2.0 schemas) against its operation: path
casing, declared query parameters and their types, the body schema, the security header, and
the declared answer's schema.

Where the sandbox (or the document) must differ, the difference is listed here:
- `SearchDataResponseModel.data` is typed `array of array of object` (Swashbuckle's rendering of
  .NET `object`), yet the vendor's own example holds strings and numbers: any JSON value is
  accepted in the cells.
- 400 on data and segment operations, 401 everywhere, 404 for unknown resources, 413, 429 and
  503 are not declared per operation, though the official status table (§3.2 of the API notes)
  says they happen: their bodies must be the error envelope, except 401 (the string
  "unauthorized.", or the envelope for an expired key or a refused address) and the rate
  limit's 429 (plain text, as documented in §8; a concurrency 429 is the envelope).
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from openapi_spec_validator import validate

from reconciler.sandbox.http import LogEntry

SPEC_PATH = Path(__file__).parent / "vendor" / "selligent-swagger.yaml"
UNDECLARED_ERRORS = {400, 401, 404, 413, 429, 503}
ENVELOPE = {
    "type": "object", "required": ["errors", "result_code"],
    "properties": {
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["error_code", "description"],
            "properties": {"error_code": {"type": "string"}, "description": {"type": "string"}}}},
        "result_code": {"$ref": "#/definitions/create_list_failed_response/properties/result_code"},
        "message": {"type": "string"},
    },
}


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    validate(spec)  # the document is valid Swagger 2.0
    return dict(spec)


class Contract:
    """The operations of the Swagger document, matched by method and exact path."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.base = spec["basePath"]
        self.definitions = copy.deepcopy(spec["definitions"])
        cells = self.definitions["SearchDataResponseModel"]["properties"]["data"]["items"]
        cells["items"] = {}  # any JSON value (see the module docstring)
        self.operations = []
        for template, item in spec["paths"].items():
            regex = re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", template) + "$")
            for method, operation in item.items():
                self.operations.append((method.upper(), regex, template, operation))

    def find(self, method: str, path: str) -> dict[str, Any] | None:
        if not path.startswith(self.base):
            return None
        below = path[len(self.base):]
        matches = [(t, op) for m, rx, t, op in self.operations if m == method and rx.match(below)]
        # a literal segment ("static") wins over a parameter
        matches.sort(key=lambda pair: pair[0].count("{"))
        return matches[0][1] if matches else None

    def _errors(self, schema: dict[str, Any], value: Any) -> list[str]:
        wrapped = {**schema, "definitions": self.definitions}
        validator = jsonschema.Draft4Validator(wrapped)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(value)]

    def check(self, entry: LogEntry, *, request: bool = True) -> list[str]:
        """Problems with one recorded exchange (empty when it fits the document); with
        `request=False` only the answer is checked (for requests a test malformed on purpose)."""
        operation = self.find(entry.method, entry.path)
        if operation is None:
            if not request and entry.status in (401, 404):
                return self._check_error(entry)
            return [f"{entry.method} {entry.path}: no such operation (or wrong casing)"]
        name = operation["operationId"]
        problems = []
        if request:
            problems += [f"{name} request: {p}" for p in self._check_request(operation, entry)]
        problems += [f"{name} response {entry.status}: {p}"
                     for p in self._check_response(operation, entry)]
        return problems

    def _check_request(self, operation: dict[str, Any], entry: LogEntry) -> list[str]:
        problems = []
        if "x-apikey" not in entry.headers:
            problems.append("no X-ApiKey header")
        params = operation.get("parameters", [])
        query = {p["name"]: p for p in params if p["in"] == "query"}
        for name, values in entry.query.items():
            declared = query.get(name)
            if declared is None:
                problems.append(f"undeclared query parameter {name}")
            elif declared.get("type") == "integer" and not re.fullmatch(r"-?\d+", values[0]):
                problems.append(f"query parameter {name} is not an integer")
        problems += [f"missing required query parameter {n}" for n, p in query.items()
                     if p.get("required") and n not in entry.query]
        body = next((p for p in params if p["in"] == "body"), None)
        if body is None:
            if entry.request_body:
                problems.append("a body where none is declared")
        elif entry.request_body or body.get("required"):
            problems += self._errors(body["schema"], entry.request_json())
        return problems

    def _check_response(self, operation: dict[str, Any], entry: LogEntry) -> list[str]:
        declared = operation.get("responses", {}).get(str(entry.status))
        if declared is not None:
            if "schema" not in declared:
                return []
            return self._errors(declared["schema"], entry.response_json())
        return self._check_error(entry)

    def _check_error(self, entry: LogEntry) -> list[str]:
        if entry.status not in UNDECLARED_ERRORS:
            return [f"status {entry.status} is neither declared nor a documented error status"]
        if entry.status == 429 and entry.fault == "rate-limited":
            return _plain_text(entry.response_body)
        body = entry.response_json()
        if entry.status == 401 and body == "unauthorized.":
            return []
        return self._errors(ENVELOPE, body)


def _plain_text(body: bytes) -> list[str]:
    """The documented rate-limit 429: a sentence of plain text, not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return ["429 body is not text"]
    return [] if text and not text.lstrip().startswith(("{", "[", '"')) else [
        f"429 body {text!r} is not a plain-text sentence"]
