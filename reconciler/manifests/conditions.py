"""Segment conditions: the no-SQL filter language of a Segment, as pydantic models.

A condition is a tree of `all` / `any` / `not` groups whose leaves are predicates such as
`{column: country, in: [BE, FR]}` or `{column: last_order_date, withinLast: 90d}`. This
module owns the shape of that tree only; compiling it to SQL belongs to `sources/`.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic.alias_generators import to_camel

from reconciler.manifests.values import Duration

Scalar = str | int | float | bool | dt.date

# The operators of a predicate, by their manifest spelling. Kept in one place so the SQL
# compiler and the docs list the same set.
COMPARISON_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")
LIST_OPERATORS = ("in", "notIn")
TEXT_OPERATORS = ("contains", "startsWith", "endsWith")
RELATIVE_DATE_OPERATORS = ("withinLast", "olderThan")
OPERATORS = (
    COMPARISON_OPERATORS + LIST_OPERATORS + TEXT_OPERATORS + RELATIVE_DATE_OPERATORS + ("isNull",)
)


class _Node(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class Predicate(_Node):
    """One column compared with one operator, e.g. `{column: ltv, gte: 1000}`."""

    model_config = ConfigDict(
        json_schema_extra={"minProperties": 2, "maxProperties": 2},
    )

    column: str = Field(min_length=1, description="A column of the segment's model.")
    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Scalar] | None = Field(default=None, min_length=1)
    contains: str | None = None
    starts_with: str | None = None
    ends_with: str | None = None
    within_last: Duration | None = Field(
        default=None, description="The date/timestamp is at most this long before now."
    )
    older_than: Duration | None = Field(
        default=None, description="The date/timestamp is more than this long before now."
    )
    is_null: bool | None = None

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Predicate:
        used = self.operators_used()
        if len(used) != 1:
            found = ", ".join(used) if used else "none"
            raise ValueError(
                f"a condition on column {self.column!r} needs exactly one operator among "
                f"{', '.join(OPERATORS)} (found: {found})"
            )
        return self

    def operators_used(self) -> list[str]:
        return [
            field.alias or name
            for name, field in type(self).model_fields.items()
            if name != "column" and getattr(self, name) is not None
        ]

    @property
    def operator(self) -> str:
        return self.operators_used()[0]

    @property
    def value(self) -> Any:
        for name, field in type(self).model_fields.items():
            if (field.alias or name) == self.operator:
                return getattr(self, name)
        raise AssertionError("validated predicates have one operator")


class AllOf(_Node):
    all: list[Condition] = Field(min_length=1, description="Every condition holds.")


class AnyOf(_Node):
    any: list[Condition] = Field(min_length=1, description="At least one condition holds.")


class Not(_Node):
    not_: Condition = Field(alias="not", description="The condition does not hold.")


def _condition_kind(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "predicate"
    if isinstance(value, BaseModel):
        return {AllOf: "all", AnyOf: "any", Not: "not"}.get(type(value), "predicate")
    return "predicate"


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Predicate, Tag("predicate")],
    Discriminator(_condition_kind),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


ConditionPath = tuple[str | int, ...]
"""Where a node is in its condition tree, as the YAML spells it: `("all", 1, "any", 0)`."""


def child_nodes(condition: AllOf | AnyOf | Not) -> list[tuple[ConditionPath, Condition]]:
    """A group's children, each with its step from the group."""
    if isinstance(condition, Not):
        return [(("not",), condition.not_)]
    key, children = ("all", condition.all) if isinstance(condition, AllOf) else (
        "any", condition.any)
    return [((key, number), child) for number, child in enumerate(children)]


def iter_predicate_paths(condition: AllOf | AnyOf | Not | Predicate,
                         path: ConditionPath = ()) -> list[tuple[ConditionPath, Predicate]]:
    """Every leaf of a condition tree with its path, in order."""
    if isinstance(condition, Predicate):
        return [(path, condition)]
    return [leaf for step, child in child_nodes(condition)
            for leaf in iter_predicate_paths(child, path + step)]


def iter_predicates(condition: AllOf | AnyOf | Not | Predicate) -> list[Predicate]:
    """Every leaf of a condition tree, in order."""
    return [predicate for _, predicate in iter_predicate_paths(condition)]
