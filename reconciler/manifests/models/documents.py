"""The manifest documents (`apiVersion`, `kind`, `metadata`, `spec`), one class per `Kind`."""
from __future__ import annotations

import enum
from typing import Literal

from reconciler.manifests.models.activation import ActivationSpec
from reconciler.manifests.models.channel import ChannelSpec
from reconciler.manifests.models.common import Metadata, StrictModel
from reconciler.manifests.models.destination import DestinationSpec
from reconciler.manifests.models.segment import ModelSpec, SegmentSpec
from reconciler.manifests.models.source import SourceSpec


class Kind(enum.StrEnum):
    """The `kind:` of a manifest document (a str, so `"Source"` compares equal to `SOURCE`)."""

    SOURCE = "Source"
    MODEL = "Model"
    SEGMENT = "Segment"
    DESTINATION = "Destination"
    ACTIVATION = "Activation"
    NOTIFICATION_CHANNEL = "NotificationChannel"


class DocumentBase(StrictModel):
    api_version: Literal["reconciler/v1"]
    metadata: Metadata


class SourceDocument(DocumentBase):
    kind: Literal["Source"]
    spec: SourceSpec


class ModelDocument(DocumentBase):
    kind: Literal["Model"]
    spec: ModelSpec


class SegmentDocument(DocumentBase):
    kind: Literal["Segment"]
    spec: SegmentSpec


class DestinationDocument(DocumentBase):
    kind: Literal["Destination"]
    spec: DestinationSpec


class ActivationDocument(DocumentBase):
    kind: Literal["Activation"]
    spec: ActivationSpec


class NotificationChannelDocument(DocumentBase):
    kind: Literal["NotificationChannel"]
    spec: ChannelSpec


Document = (
    SourceDocument | ModelDocument | SegmentDocument | DestinationDocument | ActivationDocument
    | NotificationChannelDocument
)

DOCUMENT_CLASSES: dict[Kind, type[Document]] = {
    Kind.SOURCE: SourceDocument,
    Kind.MODEL: ModelDocument,
    Kind.SEGMENT: SegmentDocument,
    Kind.DESTINATION: DestinationDocument,
    Kind.ACTIVATION: ActivationDocument,
    Kind.NOTIFICATION_CHANNEL: NotificationChannelDocument,
}
