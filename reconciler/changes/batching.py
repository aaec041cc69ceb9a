"""How apply cuts an activation's writes into calls, as the plan shows it.

A destination says how it sizes its calls (Selligent: by time under the documented 15-s
inbound limit, starting from a safe row count); the plan turns that into the number of calls
its changes will take, so a reviewer sees the cost before it is paid.
"""
from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class Batching(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    first_rows: int = Field(ge=1, description="Rows in the first call of each step.")
    max_rows: int = Field(ge=1, description="Rows in one call, at most.")
    sized_by: str = Field(description="How the size moves between calls, in words.")
    calls_min: int = Field(default=0, ge=0,
                           description="Data calls for the plan's changes if every call is "
                           "full-sized.")
    calls_max: int = Field(default=0, ge=0,
                           description="Data calls if every call keeps the first size.")

    def for_changes(self, *row_counts: int) -> Batching:
        """This batching with the calls that steps of `row_counts` rows take."""
        return self.model_copy(update={
            "calls_min": sum(math.ceil(n / self.max_rows) for n in row_counts if n > 0),
            "calls_max": sum(math.ceil(n / min(self.first_rows, self.max_rows))
                             for n in row_counts if n > 0)})

    def describe(self) -> str:
        calls = (f"{self.calls_min:,}" if self.calls_min == self.calls_max
                 else f"{self.calls_min:,}–{self.calls_max:,}")
        first = min(self.first_rows, self.max_rows)
        size = (f"{first:,} rows a call" if first == self.max_rows
                else f"{first:,} rows a call at first, at most {self.max_rows:,}")
        return f"{calls} data calls: {size}, {self.sized_by}"
