"""Segment conditions checked against the column types a Source declares, at `validate`.

Owns the part of the condition type rule (`literals.py`) that needs no warehouse: a segment
whose model is a table of a DuckDB source's `files` with declared `columns` is checked
against those types, so `lifetime_value gte '800'` on a declared decimal is an error at its
`file:line:col` before any plan. Columns not declared, and models written in SQL, are
checked at plan time against the types the warehouse reports. Pure: manifests only.
"""
from __future__ import annotations

from collections.abc import Iterator

from reconciler.manifests.conditions import (
    COMPARISON_OPERATORS,
    LIST_OPERATORS,
    RELATIVE_DATE_OPERATORS,
    ConditionPath,
    Predicate,
    iter_predicate_paths,
)
from reconciler.manifests.diagnostics import Diagnostic, Severity, format_field_path
from reconciler.manifests.literals import describe_literal, literal_mismatch
from reconciler.manifests.models import DuckDBSource, FieldType, Kind, SegmentDocument
from reconciler.manifests.project import Manifest, Project


def check_condition_types(project: Project) -> Iterator[Diagnostic]:
    """An error per segment value (or relative-date operator) that does not fit the
    declared type of the column it is compared with."""
    for segment in project.of_kind(Kind.SEGMENT).values():
        declared = _declared_columns(project, segment.document)
        if not declared:
            continue
        for path, predicate in iter_predicate_paths(segment.document.spec.where):
            found = declared.get(predicate.column.casefold())
            if found is not None:
                yield from _problems(segment, path, predicate, *found)


def _declared_columns(project: Project,
                      segment: SegmentDocument) -> dict[str, tuple[str, FieldType]]:
    """The declared column types of the file table the segment's model is, by folded name."""
    model = project.models().get(segment.spec.model)
    if model is None or model.spec.table is None:
        return {}
    source = project.sources().get(model.spec.source)
    if source is None or not isinstance(source.spec, DuckDBSource):
        return {}
    tables = {name.casefold(): table for name, table in source.spec.file_tables().items()}
    table = tables.get(model.spec.table.casefold())
    if table is None:
        return {}
    return {name.casefold(): (model.spec.source, kind) for name, kind in table.columns.items()}


def _problems(segment: Manifest[SegmentDocument], path: ConditionPath, predicate: Predicate,
              source: str, kind: FieldType) -> Iterator[Diagnostic]:
    operator, column = predicate.operator, predicate.column
    where = ("spec", "where", *path, operator)
    what = f"column {column!r} (declared {kind} in source {source!r})"
    if operator in RELATIVE_DATE_OPERATORS and kind not in (FieldType.DATE, FieldType.TIMESTAMP):
        yield _error(segment, where, f"{operator} needs a date or timestamp column, not {what}")
    if operator not in COMPARISON_OPERATORS + LIST_OPERATORS:
        return
    listed = isinstance(predicate.value, list)
    for number, value in enumerate(predicate.value if listed else [predicate.value]):
        expected = literal_mismatch(value, kind, declared=True)
        if expected is not None:
            yield _error(segment, (*where, number) if listed else where,
                         f"{operator} compares {what} with {describe_literal(value)}; "
                         f"expected {expected}")


def _error(segment: Manifest[SegmentDocument], path: tuple[str | int, ...],
           message: str) -> Diagnostic:
    return Diagnostic(Severity.ERROR, segment.locate(*path), format_field_path(path), message)
