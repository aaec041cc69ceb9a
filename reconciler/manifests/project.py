"""A loaded project: every valid manifest document, indexed by kind and name.

Owns the `Manifest` (a document with the positions of its values) and the `Project` that
indexes them. Reading and validating files is `loading.py`'s; this module imports no check.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, overload

from reconciler.manifests.loader import RawDocument
from reconciler.manifests.models import (
    DOCUMENT_CLASSES,
    ActivationDocument,
    DestinationDocument,
    Document,
    Kind,
    ModelDocument,
    NotificationChannelDocument,
    SegmentDocument,
    SourceDocument,
)

D = TypeVar("D", bound=Document)


@dataclass(frozen=True)
class Manifest(Generic[D]):
    """One valid document with the positions of its values."""

    document: D
    raw: RawDocument

    @property
    def kind(self) -> Kind:
        return Kind(self.document.kind)

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
    manifests: tuple[Manifest[Document], ...]

    @overload
    def of_kind(self, kind: Literal[Kind.SOURCE]) -> dict[str, Manifest[SourceDocument]]: ...
    @overload
    def of_kind(self, kind: Literal[Kind.MODEL]) -> dict[str, Manifest[ModelDocument]]: ...
    @overload
    def of_kind(self, kind: Literal[Kind.SEGMENT]) -> dict[str, Manifest[SegmentDocument]]: ...
    @overload
    def of_kind(
        self, kind: Literal[Kind.DESTINATION]
    ) -> dict[str, Manifest[DestinationDocument]]: ...
    @overload
    def of_kind(
        self, kind: Literal[Kind.ACTIVATION]
    ) -> dict[str, Manifest[ActivationDocument]]: ...
    @overload
    def of_kind(
        self, kind: Literal[Kind.NOTIFICATION_CHANNEL]
    ) -> dict[str, Manifest[NotificationChannelDocument]]: ...
    @overload
    def of_kind(self, kind: Kind | str) -> dict[str, Manifest[Document]]: ...

    def of_kind(self, kind: Kind | str) -> dict[str, Manifest[Any]]:
        """Manifests of one kind by name; with duplicate names the first one wins. A `Kind`
        gives manifests of that document class; a plain string ("Destination") still works."""
        return _of_class(self.manifests, DOCUMENT_CLASSES[Kind(kind)])

    def sources(self) -> dict[str, SourceDocument]:
        return {n: m.document for n, m in self.of_kind(Kind.SOURCE).items()}

    def models(self) -> dict[str, ModelDocument]:
        return {n: m.document for n, m in self.of_kind(Kind.MODEL).items()}

    def segments(self) -> dict[str, SegmentDocument]:
        return {n: m.document for n, m in self.of_kind(Kind.SEGMENT).items()}

    def destinations(self) -> dict[str, DestinationDocument]:
        return {n: m.document for n, m in self.of_kind(Kind.DESTINATION).items()}

    def activations(self) -> dict[str, ActivationDocument]:
        return {n: m.document for n, m in self.of_kind(Kind.ACTIVATION).items()}


def _of_class(manifests: tuple[Manifest[Document], ...], cls: type[D]) -> dict[str, Manifest[D]]:
    found: dict[str, Manifest[D]] = {}
    for manifest in manifests:
        if isinstance(manifest.document, cls):
            found.setdefault(manifest.name, Manifest(manifest.document, manifest.raw))
    return found
