"""A loaded project: every valid manifest document, indexed by kind and name.

Owns turning raw YAML documents into validated models, with pydantic's errors translated into
positioned diagnostics, and `load_project`, the one entry point the CLI and planner use.
"""
from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from reconciler.manifests.diagnostics import Diagnostic, Severity, format_field_path
from reconciler.manifests.envfile import load_env_file
from reconciler.manifests.loader import FieldPath, RawDocument, read_documents, walk_path
from reconciler.manifests.models import (
    API_VERSION,
    DOCUMENT_CLASSES,
    ActivationDocument,
    DestinationDocument,
    Document,
    ModelDocument,
    SegmentDocument,
    SourceDocument,
)

_RECOVERY_ROUNDS = 5


@dataclass(frozen=True)
class Manifest:
    """One valid document with the positions of its values."""

    document: Document
    raw: RawDocument

    @property
    def kind(self) -> str:
        return self.document.kind

    @property
    def name(self) -> str:
        return self.document.metadata.name

    @property
    def file(self) -> Path:
        return self.raw.file

    def locate(self, *path: str | int, key: bool = False) -> Any:
        return self.raw.positions.locate(tuple(path), key=key)


@dataclass(frozen=True)
class Project:
    root: Path
    manifests: tuple[Manifest, ...]

    def of_kind(self, kind: str) -> dict[str, Manifest]:
        """Manifests of one kind by name; with duplicate names the first one wins."""
        found: dict[str, Manifest] = {}
        for manifest in self.manifests:
            if manifest.kind == kind:
                found.setdefault(manifest.name, manifest)
        return found

    def sources(self) -> dict[str, SourceDocument]:
        return {n: m.document for n, m in self.of_kind("Source").items()}  # type: ignore[misc]

    def models(self) -> dict[str, ModelDocument]:
        return {n: m.document for n, m in self.of_kind("Model").items()}  # type: ignore[misc]

    def segments(self) -> dict[str, SegmentDocument]:
        return {n: m.document for n, m in self.of_kind("Segment").items()}  # type: ignore[misc]

    def destinations(self) -> dict[str, DestinationDocument]:
        return {
            n: m.document for n, m in self.of_kind("Destination").items()  # type: ignore[misc]
        }

    def activations(self) -> dict[str, ActivationDocument]:
        return {
            n: m.document for n, m in self.of_kind("Activation").items()  # type: ignore[misc]
        }


def load_project(path: Path) -> tuple[Project, list[Diagnostic]]:
    """Load, validate and check every manifest under `path`; diagnostics list every problem."""
    from reconciler.manifests.checks import check_project

    root = path if path.is_dir() else path.parent
    load_env_file(root)
    diagnostics: list[Diagnostic] = []
    manifests = []
    for raw in read_documents(path, diagnostics):
        manifest = validate_document(raw, diagnostics)
        if manifest is not None:
            manifests.append(manifest)
    project = Project(root, tuple(manifests))
    diagnostics.extend(check_project(project))
    return project, _sorted_unique(diagnostics)


def validate_document(raw: RawDocument, diagnostics: list[Diagnostic]) -> Manifest | None:
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
    if kind not in DOCUMENT_CLASSES:
        where = ("kind",) if "kind" in data else ()
        message = f"kind must be one of {', '.join(DOCUMENT_CLASSES)}"
        if isinstance(kind, str):
            message = f"unknown kind {kind!r}: {message}{_suggest(kind, DOCUMENT_CLASSES)}"
        diagnostics.append(_error(raw, where, message, field="kind"))
        return None
    model = DOCUMENT_CLASSES[kind]
    try:
        return Manifest(model.model_validate(data), raw)  # type: ignore[arg-type]
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"] != ("apiVersion",):  # reported above, in plainer words
                diagnostics.append(_from_pydantic(raw, error))
        recovered = _recover(model, data, exc)
        return Manifest(recovered, raw) if recovered is not None else None  # type: ignore[arg-type]


def _recover(model: type[BaseModel], data: Any, exc: ValidationError) -> BaseModel | None:
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


def _sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = {(d.position, d.field, d.message, d.severity): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (str(d.position.file), d.position.line,
                                                  d.position.column, d.message))
