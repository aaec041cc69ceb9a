"""One manifest document validated: raw YAML data → a typed document, or diagnostics.

Owns pydantic's errors translated into positioned diagnostics (with "did you mean" hints) and
a best-effort recovery of an invalid document, so cross-document checks still run on it.
"""
from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from reconciler.manifests.diagnostics import Diagnostic, Severity, format_field_path
from reconciler.manifests.loader import FieldPath, RawDocument, walk_path
from reconciler.manifests.models import API_VERSION, DOCUMENT_CLASSES, Document, Kind
from reconciler.manifests.project import Manifest

_RECOVERY_ROUNDS = 5


def validate_document(raw: RawDocument, diagnostics: list[Diagnostic]) -> Manifest[Document] | None:
    """The typed document of `raw`; its problems appended to `diagnostics`."""
    data = raw.data
    if not isinstance(data, dict):
        diagnostics.append(_error(raw, (), "a manifest document must be a mapping with "
                                  "apiVersion, kind, metadata and spec"))
        return None
    kind = data.get("kind")
    if data.get("apiVersion") != API_VERSION:
        where: FieldPath = ("apiVersion",) if "apiVersion" in data else ()
        diagnostics.append(_error(raw, where, f"apiVersion must be {API_VERSION!r}",
                                  field="apiVersion"))
    kinds = [k.value for k in Kind]
    if kind not in kinds:
        where = ("kind",) if "kind" in data else ()
        message = f"kind must be one of {', '.join(kinds)}"
        if isinstance(kind, str):
            message = f"unknown kind {kind!r}: {message}{_suggest(kind, kinds)}"
        diagnostics.append(_error(raw, where, message, field="kind"))
        return None
    model = DOCUMENT_CLASSES[Kind(kind)]
    try:
        return Manifest(model.model_validate(data), raw)
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"] != ("apiVersion",):  # reported above, in plainer words
                diagnostics.append(_from_pydantic(raw, error))
        recovered = _recover(model, data, exc)
        return Manifest(recovered, raw) if recovered is not None else None


def _recover(model: type[Document], data: Any, exc: ValidationError) -> Document | None:
    """A best-effort document without its invalid parts, so cross-document checks still run.

    Its errors are already reported; the project holding it is invalid whatever follows, but
    one run can then list every problem (a misspelled field does not hide a dangling reference).
    """
    data = copy.deepcopy(data)
    data["apiVersion"] = API_VERSION
    for _ in range(_RECOVERY_ROUNDS):
        paths = {tuple(walk_path(data, e["loc"])) for e in exc.errors()}
        if () in paths:
            return None
        for path in sorted(paths, key=len, reverse=True):
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
                parent.pop(path[-1])
        try:
            return model.model_validate(data)
        except ValidationError as again:
            exc = again
    return None


def _from_pydantic(raw: RawDocument, error: Any) -> Diagnostic:
    path = tuple(walk_path(raw.data, error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else ""
        message = f"unknown field {name!r}{_suggest(name, _field_vocabulary())}"
        return Diagnostic(Severity.ERROR, raw.positions.locate(path, key=True),
                          format_field_path(path), message)
    if kind == "missing":
        missing = error["loc"][-1]
        return Diagnostic(Severity.ERROR, raw.positions.locate(path),
                          format_field_path((*path, missing)), "required field is missing")
    message = str(error["msg"]).removeprefix("Value error, ")
    return _error(raw, path, message)


def _error(raw: RawDocument, path: FieldPath, message: str, field: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, raw.positions.locate(path),
                      format_field_path(path) if field is None else field, message)


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


@cache
def _field_vocabulary() -> frozenset[str]:
    """Every field name (as spelled in YAML) of every manifest model, for suggestions."""
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = list(DOCUMENT_CLASSES.values())
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            names.add(field.alias or name)
            pending.extend(_models_in(field.annotation))
    return frozenset(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]
