"""What the Actito adapter reads and reports: frozen values, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from reconciler.destinations.actito.executions import EtlEnd, end_of
from reconciler.masking import mask_in_text


class ValueType(StrEnum):
    """Custom attribute value types ([C]: STRING, INTEGER, TIMESTAMP; [I]: the others)."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # CUSTOM, EMAIL_ADDRESS, LASTNAME, …
    value_type: str | None  # only CUSTOM attributes carry one
    unique: bool
    mandatory: bool

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Attribute:
        return cls(str(raw["name"]), str(raw.get("type", "CUSTOM")), raw.get("valueType"),
                   bool(raw.get("unique")), bool(raw.get("mandatory")))


@dataclass(frozen=True)
class TableStructure:
    id: str
    name: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def keys(self) -> list[str]:
        """Unique attributes: what profiles can be matched by."""
        return [a.name for a in self.attributes if a.unique]


@dataclass(frozen=True)
class AttributeSpec:
    """A custom attribute an activation needs (`fields: [{…, create: true}]`)."""

    name: str
    value_type: ValueType = ValueType.STRING


@dataclass(frozen=True)
class TargetList:
    id: str
    name: str
    key_attribute: str
    validity: timedelta
    status: str  # WAITING_FOR_FILE | ACTIVE | EXPIRED  ([I])
    member_count: int
    last_file_name: str | None
    last_report: dict[str, Any] | None


@dataclass(frozen=True)
class MembershipReport:
    """What Actito made of a key file: matched keys are members, unmatched are skipped.
    `confirmed` False: the file was dropped but nothing documented (or nothing within the
    wait) said Actito read it; the counts are then what was sent."""

    list_name: str
    file_name: str
    lines: int
    matched: int
    unmatched: int
    confirmed: bool = True


@dataclass(frozen=True)
class UpdateReport:
    """What UPDATE_ONLY ETL executions did, from their counters ([I] evidence §7, read as
    executions.py says). `rejected_lines` are samples ({line, reason}) with the reason masked:
    Actito's words may quote the rejected values. `unsettled`: an execution ended WITH_ERROR,
    and nothing documented says which rows it rejected, so none of the rows sent may be
    recorded as applied."""

    executions: int = 0
    lines: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_lines: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # line + reason
    unsettled: bool = False

    def plus(self, execution: dict[str, Any], keep: int = 100) -> UpdateReport:
        counters = execution.get("counters") or {}
        samples = tuple({"line": r.get("line"), "reason": mask_in_text(str(r.get("reason", "")))}
                        for r in (execution.get("rejectedLines") or [])[:keep]
                        if isinstance(r, dict))
        return UpdateReport(
            self.executions + 1, self.lines + int(counters.get("totalLines", 0)),
            self.updated + int(counters.get("updated", 0)),
            self.unchanged + int(counters.get("unchanged", 0)),
            self.rejected + int(counters.get("rejected", 0)),
            (*self.rejected_lines, *samples)[:keep],
            self.unsettled or end_of(execution) is EtlEnd.WITH_ERROR,
        )

    def merge(self, other: UpdateReport, keep: int = 100) -> UpdateReport:
        return UpdateReport(
            self.executions + other.executions, self.lines + other.lines,
            self.updated + other.updated, self.unchanged + other.unchanged,
            self.rejected + other.rejected, (*self.rejected_lines, *other.rejected_lines)[:keep],
            self.unsettled or other.unsettled)
