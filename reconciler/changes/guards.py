"""Guard verdicts as data: which guard stops an activation, what was measured, the limit.

The planner decides them (`ActivationPlan.stops`), the executor refuses to write while any
holds (unless `--allow-mass-removal`), the plan renderers and the notifier say them in words.
Nobody parses a sentence back into a verdict.
"""
from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


class GuardKind(enum.StrEnum):
    """A guard, by the name of the activation setting that sets it."""

    MIN_MATCH_RATE = "minMatchRate"
    MAX_REMOVAL_RATIO = "maxRemovalRatio"
    EMPTY_AUDIENCE = "emptyAudience"


class GuardStop(BaseModel):
    """One guard that stops an activation: `measured` against `limit` (a share 0..1; for an
    empty audience the members that would be removed, and no limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: GuardKind
    activation: str
    measured: float = Field(ge=0)
    limit: float | None = None
