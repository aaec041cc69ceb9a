"""`validate` checks segment values against the column types the Source declares."""
from __future__ import annotations

from pathlib import Path

from reconciler.manifests.diagnostics import Severity
from reconciler.manifests.loading import load_project
from tests.manifests.conftest import replace_in


def _errors(path: Path) -> list[str]:
    return [f"{d.position.line}:{d.position.column} {d.field}: {d.message}"
            for d in load_project(path)[1] if d.severity is Severity.ERROR]


def _line_of(path: Path, text: str) -> tuple[int, int]:
    lines = path.read_text("utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if text in line)
    return number, lines[number - 1].index(text) + 1


def test_values_that_do_not_fit_declared_types_are_errors_at_their_place(
        example_copy: Path) -> None:
    # Scenario: on the example's declared columns, a quoted number on a decimal, a number in
    # a list on a declared string, and withinLast on a boolean are errors at file:line:col.
    segments = example_copy / "segments.yaml"
    replace_in(segments, "gte: 1000}", "gte: '1000'}")
    replace_in(segments, "{column: country, in: [BE, NL, LU]}",
               "{column: customer_id, in: [C000001, 42]}")
    replace_in(segments, "{column: sms_consent, eq: true}",
               "{column: sms_consent, withinLast: 30d}")
    ltv, customer, consent = (_line_of(segments, text) for text in (
        "'1000'", "42]", "30d"))
    assert _errors(example_copy) == [
        f"{ltv[0]}:{ltv[1]} spec.where.all[0].gte: gte compares column 'lifetime_value' "
        "(declared decimal in source 'warehouse') with the text '1000'; expected a number, "
        "without quotes",
        f"{consent[0]}:{consent[1]} spec.where.all[0].withinLast: withinLast needs a date or "
        "timestamp column, not column 'sms_consent' (declared boolean in source 'warehouse')",
        f"{customer[0]}:{customer[1]} spec.where.all[1].in[1]: in compares column "
        "'customer_id' (declared string in source 'warehouse') with the number 42; expected "
        "text, in quotes ('42')",
    ]


def test_undeclared_columns_and_sql_models_are_left_to_the_plan(example_copy: Path) -> None:
    # Scenario: `country` is not declared and churn-risk's model is SQL: validate cannot know
    # their types, so a number there is checked at plan time only.
    segments = example_copy / "segments.yaml"
    replace_in(segments, "{column: country, in: [BE, NL, LU]}", "{column: country, eq: 32}")
    replace_in(segments, "{column: order_count, gte: 2}", "{column: order_count, gte: 'two'}")
    assert _errors(example_copy) == []
