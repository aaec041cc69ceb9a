"""Per-resource changes: what happens to a remote list, segment, field or attribute."""
from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


class Action(enum.StrEnum):
    """What happens to a resource; the values are the symbols users see (terraform's)."""

    CREATE = "+"
    UPDATE = "~"
    DELETE = "-"
    REPLACE = "-/+"  # a new list instead of the one the last apply wrote (see `replaces`)


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


class ReplacedList(BaseModel):
    """The list a replacement (`-/+`) succeeds: the one the activation's last apply wrote."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    destination: str
    name: str
    members: int = Field(ge=0, description="Its members at the last apply.")
    deleted: bool = Field(description="Whether apply deletes it once the new list holds every "
                          "member (deletionPolicy: delete); otherwise it stays, unmanaged.")


class ResourceChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    type: ResourceType
    name: str
    detail: str = Field(default="", description="e.g. the field's type or the list's key")
    reason: str = Field(description="Why the change is needed, e.g. 'not found at destination'.")
    replaces: ReplacedList | None = Field(
        default=None, description="For `-/+`: the list this one replaces (the new one is "
        "created, or written, with every member first).")

    def retired(self) -> ResourceChange | None:
        """The deletion of the list this replacement succeeds, when apply makes it (after the
        new list holds every member); None otherwise."""
        if self.replaces is None or not self.replaces.deleted:
            return None
        return ResourceChange(action=Action.DELETE, type=self.type, name=self.replaces.name,
                              reason=f"replaced by {self.name}; deletionPolicy: delete")
