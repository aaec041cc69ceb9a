"""What Selligent's data calls answer, summed over the chunks of one logical operation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InvalidRecord:
    """A refused row: its 0-based index in the rows given to the client (not the chunk)."""

    record_index: int
    field_name: str | None
    message: str
    validation_code: str


@dataclass
class DataResult:
    """Counts of `LoadDataResponseModel` / `DeleteDataResponseModel`, over every chunk."""

    call: str = ""
    calls: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    failed: int = 0
    not_found: int = 0
    deleted: int = 0
    invalid_records: list[InvalidRecord] = field(default_factory=list)

    @property
    def partially_succeeded(self) -> bool:
        return self.failed > 0

    def add(self, body: dict[str, Any], offset: int) -> None:
        """Add one chunk's answer; `offset` is the chunk's first row index."""
        self.calls += 1
        self.inserted += int(body.get("number_of_inserted_records") or 0)
        self.updated += int(body.get("number_of_updated_records") or 0)
        self.duplicates += int(body.get("number_of_duplicate_records") or 0)
        self.failed += int(body.get("number_of_failed_records") or 0)
        self.not_found += int(body.get("number_of_records_not_found") or 0)
        self.deleted += int(body.get("number_of_deleted_records") or 0)
        for item in body.get("invalid_records") or []:
            self.invalid_records.append(InvalidRecord(
                record_index=offset + int(item.get("record_index") or 0),
                field_name=item.get("field_name"),
                message=str(item.get("message") or ""),
                validation_code=str(item.get("validation_code") or "Unknown"),
            ))
