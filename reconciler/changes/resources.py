"""Per-resource changes: what happens to a remote list, segment, field or attribute."""
from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


class Action(enum.StrEnum):
    """What happens to a resource; the values are the symbols users see (terraform's)."""

    CREATE = "+"
    UPDATE = "~"
    DELETE = "-"


class ResourceType(enum.StrEnum):
    SELLIGENT_SEGMENT = "selligent_static_segment"
    SELLIGENT_FIELD = "selligent_list_field"
    ACTITO_TARGET_LIST = "actito_external_target_list"
    ACTITO_ATTRIBUTE = "actito_profile_attribute"

    @property
    def label(self) -> str:
        return {
            "selligent_static_segment": "static segment",
            "selligent_list_field": "field",
            "actito_external_target_list": "external target list",
            "actito_profile_attribute": "attribute",
        }[self.value]


class ResourceChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    type: ResourceType
    name: str
    detail: str = Field(default="", description="e.g. the field's type or the list's key")
    reason: str = Field(description="Why the change is needed, e.g. 'not found at destination'.")
