"""The Model and Segment kinds: the rows of a source, and a condition over them."""
from __future__ import annotations

from pydantic import Field, model_validator

from reconciler.manifests.conditions import Condition
from reconciler.manifests.models.common import Name, StrictModel


class ModelSpec(StrictModel):
    source: Name
    sql: str | None = Field(default=None, description="A SELECT over the source.")
    table: str | None = Field(default=None, description="A table or view of the source.")
    # Deprecated, never used: members are keyed by each activation's matchKey.source (which
    # the plan checks for nulls and duplicates). Still accepted, with a warning (checks.py),
    # so that projects written for 0.1 stay valid; to be refused by the next apiVersion.
    primary_key: str | None = Field(
        default=None, min_length=1, json_schema_extra={"deprecated": True},
        description="Deprecated and ignored: members are identified by each activation's "
        "matchKey.source. Remove it.")

    @model_validator(mode="after")
    def _sql_or_table(self) -> ModelSpec:
        if (self.sql is None) == (self.table is None):
            raise ValueError("a model needs exactly one of `sql` or `table`")
        return self


class SegmentSpec(StrictModel):
    model: Name
    description: str | None = None
    where: Condition
