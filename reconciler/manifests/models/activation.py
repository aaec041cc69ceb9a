"""The Activation kind, and the settings a destination's `defaults:` may give its activations."""
from __future__ import annotations

import enum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from reconciler.manifests.models.common import FileName, Name, StrictModel
from reconciler.manifests.values import CronExpression, Duration


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


class DuplicateKeys(enum.StrEnum):
    """What a plan does with a match key found on several rows of the audience."""

    KEEP = "keep"  # the key's member stays as it is: neither added, removed nor updated
    FIRST = "first"  # one row is synced: the first by its mapped values (see sources/)
    FAIL = "fail"  # the activation is not planned


class ListManagement(enum.StrEnum):
    """Who sets an Actito external target list up."""

    PORTAL = "portal"  # once, in the Actito portal: this tool only drops key files (documented)
    API = "api"  # this tool creates and deletes it through inferred (undocumented) routes


class TargetListSettings(StrictModel):
    """Actito only: the external target list an activation fills."""

    manage: ListManagement = Field(
        default=ListManagement.PORTAL,
        description="`portal` (default): the list, its file synchronization and location were "
        "set up once in the Actito portal; this tool only drops key files over FTPS/SFTP, "
        "which is documented, and sends no undocumented REST call. `api`: this tool creates, "
        "reads and deletes the list by API, through routes no public Actito source documents "
        "(see the README's Actito section).")
    id: str | None = Field(
        default=None, min_length=1,
        description="The list's id in Actito (shown in the portal): recorded in plans and, "
        "with `manage: api`, used instead of finding the list by name.")
    file_name_pattern: FileName | None = Field(
        default=None, min_length=1,
        description="The file name pattern of the list's file synchronization, with Actito's "
        "date placeholders, e.g. `churn_risk_$yyyyMMddHHmmss.zip`; default: the audience name "
        "in lower case with non-alphanumerics as `-`, then `_$yyyyMMddHHmmss.zip`.")


class MatchKey(StrictModel):
    source: str = Field(min_length=1, description="The model column holding the key.")
    destination: str = Field(
        min_length=1,
        description="Selligent: a list field (e.g. EXTERNAL_ID, MAIL); Actito: a unique "
        "attribute (emailAddress, gsmNumber or a unique custom attribute).",
    )


class FieldMapping(StrictModel):
    source: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    create: bool = Field(
        default=False, description="Create the destination field/attribute when missing."
    )
    type: FieldType | None = Field(default=None, description="Required when `create` is true.")
    length: int | None = Field(
        default=None, ge=1, le=4000,
        description="A string field created by this tool: its length in characters (default "
        "255; Selligent's own default is undocumented). Longer values are rejected at plan "
        "time.")

    @model_validator(mode="after")
    def _type_when_created(self) -> FieldMapping:
        if self.length is not None and (not self.create or self.type is not FieldType.STRING):
            raise ValueError(f"field {self.destination!r}: `length` applies to a string field "
                             "created by this tool (`create: true`, `type: string`)")
        if self.create and self.type is None:
            raise ValueError(
                f"field {self.destination!r} has `create: true` and needs a `type` "
                f"({', '.join(t.value for t in FieldType)})"
            )
        return self


class EverySchedule(StrictModel):
    every: Duration


class CronSchedule(StrictModel):
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


class Warnings(StrictModel):
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


class ActivationSettings(StrictModel):
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
    target_list: TargetListSettings | None = Field(
        default=None, description="Actito only: how the external target list is set up "
        "(portal or api), its id and its key files' name pattern.")
    duplicate_keys: DuplicateKeys | None = Field(
        default=None,
        description="A match key on several rows of the audience: `keep` (default) leaves its "
        "member as it is this run (not added, removed or updated) and warns; `first` syncs "
        "the row whose mapped values sort first; `fail` plans nothing for the activation.")
    etl_id: str | None = Field(
        default=None, min_length=1,
        description="Actito only: the id of an UPDATE_ONLY ETL definition created once in the "
        "Actito portal, keyed by the activation's match key and mapping its fields' columns "
        "(header: the match key, then the fields' destination names). Attribute updates then "
        "push only the data file to it (trigger-execution); without it each update is a "
        "one-shot ETL execution carrying its own definition.")


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
