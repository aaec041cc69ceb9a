"""The Model and Segment kinds: the rows of a source, and a condition over them."""
from __future__ import annotations

from pydantic import Field, model_validator

from reconciler.manifests.conditions import Condition
from reconciler.manifests.models.common import Name, StrictModel


class ModelSpec(StrictModel):
    source: Name
    sql: str | None = Field(default=None, description="A SELECT over the source.")
    table: str | None = Field(default=None, description="A table or view of the source.")
    primary_key: str = Field(min_length=1, description="The column that identifies a row.")

    @model_validator(mode="after")
    def _sql_or_table(self) -> ModelSpec:
        if (self.sql is None) == (self.table is None):
            raise ValueError("a model needs exactly one of `sql` or `table`")
        return self


class SegmentSpec(StrictModel):
    model: Name
    description: str | None = None
    where: Condition
