"""Applying a read batch: list upserts and deletes, segment reference loads and deletes.

Each function takes a `rows.Batch` already validated and answers the counts of Selligent's
`LoadDataResponseModel` / `DeleteDataResponseModel`. Segment loads only reference records that
already exist in the list: they never insert a contact.
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.selligent import inferred
from reconciler.sandbox.selligent.problem import ApiProblem
from reconciler.sandbox.selligent.rows import Batch, dedupe
from reconciler.sandbox.selligent.store import ListTable, Segment

IMPORT_OPTIONS = ("InsertAndUpdate", "OnlyInsert", "OnlyUpdate")


def _counts(batch: Batch, duplicates: int) -> dict[str, Any]:
    return {
        "errors": [],
        "number_of_inserted_records": 0,
        "number_of_updated_records": 0,
        "number_of_duplicate_records": duplicates,
        "number_of_failed_records": len(batch.invalid),
        "number_of_records_not_found": 0,
        "number_of_deleted_records": 0,
        "invalid_records": batch.invalid,
    }


def _finish(result: dict[str, Any], batch: Batch) -> dict[str, Any]:
    result["result_code"] = inferred.load_result_code(len(batch.rows), len(batch.invalid))
    return result


def load_list(
    table: ListTable, batch: Batch, option: str | None, dedup: str | None
) -> dict[str, Any]:
    """Insert and/or update list records as `data_import_option` allows."""
    option = option or "InsertAndUpdate"
    if option not in IMPORT_OPTIONS:
        raise ApiProblem.invalid(f"Unknown data_import_option '{option}'.")
    rows, duplicates = dedupe(batch, dedup)
    result = _counts(batch, duplicates)
    index = table.index(batch.key_names)
    names = [c.name for c in batch.columns]
    for key, values in rows.items():
        found = index.get(key)
        if found and option == "OnlyInsert":
            result[inferred.ONLY_INSERT_EXISTING_COUNTS_AS] += 1
        elif found:
            for record_id in list(found):  # a record's key may change: the index with it
                table.update(record_id, dict(zip(names, values, strict=True)))
            result["number_of_updated_records"] += 1
        elif option == "OnlyUpdate":
            result["number_of_records_not_found"] += 1
        else:
            record = {f.name: None for f in table.fields}
            record.update(zip(names, values, strict=True))
            table.insert(record)
            result["number_of_inserted_records"] += 1
    return _finish(result, batch)


def delete_from_list(table: ListTable, batch: Batch) -> dict[str, Any]:
    """Delete the records matching each row's key (and their segment references)."""
    rows, duplicates = dedupe(batch, None)
    result = _counts(batch, duplicates)
    index = table.index(batch.key_names)
    for key in rows:
        found = list(index.get(key, ()))
        for record_id in found:
            table.delete(record_id)
        result["number_of_deleted_records"] += len(found)
        result["number_of_records_not_found"] += 0 if found else 1
    return _delete_shape(_finish(result, batch))


def load_segment(
    table: ListTable, segment: Segment, batch: Batch, dedup: str | None
) -> dict[str, Any]:
    """Reference existing list records from a static segment; unknown keys are not found."""
    require_static(segment)
    rows, duplicates = dedupe(batch, dedup)
    result = _counts(batch, duplicates)
    index = table.index(batch.key_names)
    for key in rows:
        found = index.get(key)
        if not found:
            result["number_of_records_not_found"] += 1
            continue
        if all(record_id in segment.members for record_id in found):
            result[inferred.SEGMENT_ALREADY_MEMBER_COUNTS_AS] += 1
            continue
        segment.members.update(found)
        result["number_of_inserted_records"] += 1
    return _finish(result, batch)


def delete_from_segment(table: ListTable, segment: Segment, batch: Batch) -> dict[str, Any]:
    """Remove references from a static segment; the list records stay untouched."""
    require_static(segment)
    rows, duplicates = dedupe(batch, None)
    result = _counts(batch, duplicates)
    index = table.index(batch.key_names)
    for key in rows:
        members = [r for r in index.get(key, ()) if r in segment.members]
        segment.members.difference_update(members)
        result["number_of_deleted_records"] += len(members)
        result["number_of_records_not_found"] += 0 if members else 1
    return _delete_shape(_finish(result, batch))


def clear_segment(segment: Segment) -> None:
    require_static(segment)
    segment.members.clear()


def require_static(segment: Segment) -> None:
    if segment.type != "Static":
        raise ApiProblem.invalid(f"{inferred.READ_ONLY_SEGMENT_MESSAGE} "
                                 f"Segment {segment.api_name} is {segment.type}.")


def _delete_shape(result: dict[str, Any]) -> dict[str, Any]:
    """DeleteDataResponseModel has no inserted/updated counts."""
    result.pop("number_of_inserted_records")
    result.pop("number_of_updated_records")
    return result
