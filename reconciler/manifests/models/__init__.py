"""The manifest kinds (`apiVersion: reconciler/v1`) as pydantic models, one module per kind.

These models are the single source of truth of the manifest language: validation, the JSON
Schemas in `schemas/` and the docs all come from them. YAML spells fields in camelCase; Python
uses snake_case through aliases. Unknown fields are errors everywhere. This package knows
nothing of files or positions (see `loader.py`) nor of cross-document rules (`checks.py`).
Everything is re-exported here: import from `reconciler.manifests.models`.
"""
from reconciler.manifests.models.activation import (
    ActivationSettings,
    ActivationSpec,
    CronSchedule,
    DeletionPolicy,
    DuplicateKeys,
    EverySchedule,
    FieldMapping,
    FieldType,
    ListManagement,
    MatchKey,
    Schedule,
    TargetListSettings,
    Warnings,
)
from reconciler.manifests.models.channel import (
    EMAIL_PATTERN,
    ChannelSpec,
    EmailAddress,
    EmailChannel,
    SmtpSecurity,
    WebhookChannel,
)
from reconciler.manifests.models.common import (
    API_VERSION,
    NAME_PATTERN,
    Metadata,
    Name,
    StrictModel,
    UrlOrEnv,
)
from reconciler.manifests.models.destination import (
    ActitoApi,
    ActitoCredentials,
    ActitoDestination,
    ActitoLimits,
    ActitoLocation,
    ActitoRoute,
    DestinationSpec,
    EmptyValues,
    FileTransfer,
    FileTransferProtocol,
    SelligentCredentials,
    SelligentDestination,
    SelligentLimits,
)
from reconciler.manifests.models.documents import (
    DOCUMENT_CLASSES,
    ActivationDocument,
    DestinationDocument,
    Document,
    DocumentBase,
    Kind,
    ModelDocument,
    NotificationChannelDocument,
    SegmentDocument,
    SourceDocument,
)
from reconciler.manifests.models.segment import ModelSpec, SegmentSpec
from reconciler.manifests.models.source import (
    BigQuerySource,
    DuckDBSource,
    FileTable,
    PlanIn,
    PostgresSource,
    SnowflakeSource,
    SourceSpec,
)

__all__ = [
    "API_VERSION", "DOCUMENT_CLASSES", "EMAIL_PATTERN", "NAME_PATTERN", "ActitoCredentials",
    "ActitoDestination", "ActitoLimits", "ActivationDocument", "ActivationSettings",
    "ActivationSpec", "BigQuerySource", "ChannelSpec", "CronSchedule", "DeletionPolicy",
    "DestinationDocument",
    "DestinationSpec", "Document", "DocumentBase", "DuckDBSource", "DuplicateKeys", "EmailAddress",
    "ListManagement", "TargetListSettings", "ActitoApi", "ActitoRoute", "ActitoLocation",
    "EmailChannel", "EmptyValues", "EverySchedule", "FieldMapping", "FieldType", "FileTable",
    "FileTransfer", "FileTransferProtocol", "Kind", "MatchKey", "Metadata", "ModelDocument",
    "ModelSpec", "Name",
    "NotificationChannelDocument", "PlanIn", "PostgresSource", "Schedule", "SegmentDocument",
    "SegmentSpec", "SelligentCredentials", "SnowflakeSource", "SelligentDestination",
    "SelligentLimits",
    "SmtpSecurity", "SourceDocument", "SourceSpec", "StrictModel", "UrlOrEnv", "Warnings",
    "WebhookChannel",
]
