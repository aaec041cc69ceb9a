"""The manifest kinds (`apiVersion: reconciler/v1`) as pydantic models.

These models are the single source of truth of the manifest language: validation, the JSON
Schemas in `schemas/` and the docs all come from them. YAML spells fields in camelCase; Python
uses snake_case through aliases. Unknown fields are errors everywhere. This module knows
nothing of files or positions (see `loader.py`) nor of cross-document rules (`checks.py`).
"""
from __future__ import annotations

import enum
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from reconciler.manifests.conditions import Condition
from reconciler.manifests.values import Credential, CronExpression, Duration

API_VERSION = "reconciler/v1"
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
    )


def _check_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters"
        )
    return value


Name = Annotated[
    str, AfterValidator(_check_name), Field(json_schema_extra={"pattern": NAME_PATTERN})
]
UrlOrEnv = Annotated[
    str,
    Field(
        min_length=1,
        description="A URL, or an environment reference ${env:NAME}.",
        json_schema_extra={"examples": ["http://127.0.0.1:8781/Portal/Api"]},
    ),
]


class Metadata(_Model):
    name: Name = Field(description="Unique among the documents of the same kind.")
    labels: dict[str, str] = Field(default_factory=dict)
    description: str | None = None


# --- Source -----------------------------------------------------------------------------


class DuckDBSource(_Model):
    """The embedded default warehouse: a DuckDB file, or CSV/Parquet files read through it."""

    type: Literal["duckdb"]
    path: str | None = Field(
        default=None,
        description="The database file, relative to this manifest; in memory when absent.",
    )
    files: dict[str, str] = Field(
        default_factory=dict,
        description="Tables read from CSV or Parquet files (glob allowed), relative to this "
        "manifest: {table name: path}.",
    )


class PostgresSource(_Model):
    type: Literal["postgres"]
    url: Credential = Field(description="A libpq URL, postgresql://user:password@host/db.")
    search_path: str | None = Field(default=None, description="The schema(s) models read.")


SourceSpec = Annotated[DuckDBSource | PostgresSource, Field(discriminator="type")]


# --- Model and Segment ------------------------------------------------------------------


class ModelSpec(_Model):
    source: Name
    sql: str | None = Field(default=None, description="A SELECT over the source.")
    table: str | None = Field(default=None, description="A table or view of the source.")
    primary_key: str = Field(min_length=1, description="The column that identifies a row.")

    @model_validator(mode="after")
    def _sql_or_table(self) -> ModelSpec:
        if (self.sql is None) == (self.table is None):
            raise ValueError("a model needs exactly one of `sql` or `table`")
        return self


class SegmentSpec(_Model):
    model: Name
    description: str | None = None
    where: Condition


# --- Activation settings (shared by activations and destination defaults) ---------------


class FieldType(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


class DeletionPolicy(enum.StrEnum):
    KEEP = "keep"
    DELETE = "delete"


class MatchKey(_Model):
    source: str = Field(min_length=1, description="The model column holding the key.")
    destination: str = Field(
        min_length=1,
        description="Selligent: a list field (e.g. EXTERNAL_ID, MAIL); Actito: a unique "
        "attribute (emailAddress, gsmNumber or a unique custom attribute).",
    )


class FieldMapping(_Model):
    source: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    create: bool = Field(
        default=False, description="Create the destination field/attribute when missing."
    )
    type: FieldType | None = Field(default=None, description="Required when `create` is true.")

    @model_validator(mode="after")
    def _type_when_created(self) -> FieldMapping:
        if self.create and self.type is None:
            raise ValueError(
                f"field {self.destination!r} has `create: true` and needs a `type` "
                f"({', '.join(t.value for t in FieldType)})"
            )
        return self


class EverySchedule(_Model):
    every: Duration


class CronSchedule(_Model):
    cron: CronExpression
    timezone: str = Field(default="UTC", description="An IANA time zone, e.g. Europe/Brussels.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Brussels)") from exc
        return value


def _schedule_kind(value: Any) -> str:
    if isinstance(value, str) or value is None:
        return "manual"
    if isinstance(value, dict):
        return "cron" if "cron" in value else "every"
    return "cron" if isinstance(value, CronSchedule) else "every"


Schedule = Annotated[
    Annotated[Literal["manual"], Tag("manual")]
    | Annotated[EverySchedule, Tag("every")]
    | Annotated[CronSchedule, Tag("cron")],
    Discriminator(_schedule_kind),
]


class Warnings(_Model):
    on_failure: bool | None = Field(default=None, description="Warn when a sync fails.")
    max_removal_ratio: float | None = Field(
        default=None, ge=0, le=1, description="Stop before removing more than this share."
    )
    min_match_rate: float | None = Field(
        default=None, ge=0, le=1, description="Stop when fewer users match at the destination."
    )
    empty_audience: bool | None = Field(
        default=None, description="Stop when the audience is suddenly empty."
    )
    max_rejected_ratio: float | None = Field(
        default=None, ge=0, le=1, description="Warn when more rows than this are rejected."
    )
    notify: list[str] | None = Field(default=None, description="Notification channel names.")


class ActivationSettings(_Model):
    """The settings a destination's `defaults:` may provide to its activations."""

    match_key: MatchKey | None = None
    fields: list[FieldMapping] | None = None
    schedule: Schedule | None = None
    warnings: Warnings | None = None
    deletion_policy: DeletionPolicy | None = Field(
        default=None, description="What happens to the remote list when the activation goes."
    )
    validity_period: Duration | None = Field(
        default=None, description="Actito only: how long an external target list file is valid."
    )


class ActivationSpec(ActivationSettings):
    segment: Name | None = Field(default=None, description="Sync the members of a segment...")
    model: Name | None = Field(default=None, description="...or every row of a model.")
    destination: Name
    audience_name: str | None = Field(
        default=None,
        min_length=1,
        description="The remote list's name (Selligent: spaces become underscores). "
        "Defaults to the segment's (or model's) name.",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _segment_or_model(self) -> ActivationSpec:
        if (self.segment is None) == (self.model is None):
            raise ValueError("an activation needs exactly one of `segment` or `model`")
        return self


# --- Destination ------------------------------------------------------------------------


class SelligentCredentials(_Model):
    api_key: Credential
    api_secret: Credential


class SelligentLimits(_Model):
    max_rows_per_load: int = Field(default=10_000, ge=1)
    requests_per_second: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=4, ge=1, le=64)


class SelligentDestination(_Model):
    type: Literal["selligent"]
    base_url: UrlOrEnv = Field(description="e.g. https://<tenant>.slgnt.eu/Portal/Api")
    organization: str = Field(min_length=1)
    list: str = Field(min_length=1, description="The audience list's api name, e.g. CONTACTS.")
    credentials: SelligentCredentials
    limits: SelligentLimits = Field(default_factory=SelligentLimits)
    defaults: ActivationSettings | None = None


class FileTransferProtocol(enum.StrEnum):
    FTPS = "ftps"
    SFTP = "sftp"


class FileTransfer(_Model):
    protocol: FileTransferProtocol
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: Credential | None = None
    private_key: Credential | None = Field(default=None, description="SFTP: a PEM private key.")
    directory: str = "/"
    ca_file: str | None = Field(
        default=None,
        description="FTPS: a PEM file of certificates to trust, relative to this manifest; "
        "the system's certificates when absent.",
    )
    host_key: str | None = Field(
        default=None,
        description="SFTP: the server's public key ('ssh-ed25519 AAAA…'); ~/.ssh/known_hosts "
        "when absent.",
    )

    @model_validator(mode="after")
    def _some_secret(self) -> FileTransfer:
        if self.password is None and self.private_key is None:
            raise ValueError("a file transfer location needs a `password` or a `privateKey`")
        return self


class ActitoCredentials(_Model):
    api_key: Credential


class ActitoLimits(_Model):
    concurrency: int = Field(default=5, ge=1, le=5)
    requests_per_minute: int = Field(default=100, ge=1)
    bulk_imports_per_day: int = Field(
        default=12, ge=1,
        description="ETL imports allowed per profile table per UTC day (Actito's quota: 12, "
        "more with an extension pack). The attribute updates of all activations of a run on "
        "one table share one import; when the day's imports are used up they wait for the "
        "next day while memberships still sync.")


class ActitoDestination(_Model):
    type: Literal["actito"]
    base_url: UrlOrEnv = Field(description="e.g. https://api.actito.com")
    entity: str = Field(min_length=1)
    profile_table: str = Field(min_length=1)
    credentials: ActitoCredentials
    unique_attributes: list[str] = Field(
        default_factory=list,
        description="Unique custom attributes usable as match keys (e.g. customerId), besides "
        "emailAddress and gsmNumber; checked against the table at plan time.",
    )
    file_transfer: FileTransfer
    limits: ActitoLimits = Field(default_factory=ActitoLimits)
    defaults: ActivationSettings | None = None


DestinationSpec = Annotated[
    SelligentDestination | ActitoDestination, Field(discriminator="type")
]


# --- NotificationChannel ----------------------------------------------------------------

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
EmailAddress = Annotated[str, Field(pattern=EMAIL_PATTERN, examples=["crm-team@example.com"])]


class SmtpSecurity(enum.StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    SSL = "ssl"  # TLS from the first byte (port 465)
    NONE = "none"  # no encryption: only for a relay on the same host or network


class WebhookChannel(_Model):
    """A generic webhook: a Slack-compatible JSON body (`text`) with structured fields."""

    type: Literal["webhook"]
    url: Credential = Field(
        description="${env:NAME} holding the URL (a Slack webhook URL is a secret)."
    )
    timeout_seconds: float = Field(default=10, gt=0, le=120)


class EmailChannel(_Model):
    """Email over SMTP (one message per warning, to every recipient)."""

    type: Literal["email"]
    host: str = Field(min_length=1, description="The SMTP server.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 587 (starttls), 465 (ssl), 25."
    )
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = Field(default=None, min_length=1)
    password: Credential | None = None
    from_: EmailAddress = Field(alias="from", description="The sender address.")
    to: list[EmailAddress] = Field(min_length=1, description="The recipients.")
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @model_validator(mode="after")
    def _password_with_username(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("an email channel needs both `username` and `password`, or neither")
        return self


ChannelSpec = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]


# --- Documents --------------------------------------------------------------------------


class _Document(_Model):
    api_version: Literal["reconciler/v1"]
    metadata: Metadata


class SourceDocument(_Document):
    kind: Literal["Source"]
    spec: SourceSpec


class ModelDocument(_Document):
    kind: Literal["Model"]
    spec: ModelSpec


class SegmentDocument(_Document):
    kind: Literal["Segment"]
    spec: SegmentSpec


class DestinationDocument(_Document):
    kind: Literal["Destination"]
    spec: DestinationSpec


class ActivationDocument(_Document):
    kind: Literal["Activation"]
    spec: ActivationSpec


class NotificationChannelDocument(_Document):
    kind: Literal["NotificationChannel"]
    spec: ChannelSpec


Document = (
    SourceDocument | ModelDocument | SegmentDocument | DestinationDocument | ActivationDocument
    | NotificationChannelDocument
)

DOCUMENT_CLASSES: dict[str, type[_Document]] = {
    "Source": SourceDocument,
    "Model": ModelDocument,
    "Segment": SegmentDocument,
    "Destination": DestinationDocument,
    "Activation": ActivationDocument,
    "NotificationChannel": NotificationChannelDocument,
}
