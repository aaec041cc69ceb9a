"""Document validation: pydantic errors become positioned, readable diagnostics."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests.diagnostics import Diagnostic, Severity
from reconciler.manifests.loading import load_project
from tests.manifests.conftest import replace_in

HEADER = "apiVersion: reconciler/v1\n"


def _diagnostics(tmp_path: Path, text: str) -> list[Diagnostic]:
    (tmp_path / "m.yaml").write_text(text)
    return load_project(tmp_path)[1]


def _where(d: Diagnostic) -> tuple[int, int, str]:
    return d.position.line, d.position.column, d.field


def test_unknown_field_points_at_the_key_and_suggests(tmp_path: Path) -> None:
    # Scenario: a misspelled field inside a nested mapping.
    text = HEADER + "kind: Source\nmetadata: {name: w}\nspec:\n  type: duckdb\n  fils: {}\n"
    [d] = _diagnostics(tmp_path, text)
    assert _where(d) == (6, 3, "spec.fils")
    assert "unknown field 'fils'; did you mean 'files'?" in d.message


def test_missing_field_names_the_field_at_its_parent(tmp_path: Path) -> None:
    # Scenario: a Model without source.
    text = HEADER + "kind: Model\nmetadata: {name: m}\nspec:\n  table: t\n"
    found = [d for d in _diagnostics(tmp_path, text) if d.field == "spec.source"]
    assert len(found) == 1 and found[0].message == "required field is missing"
    assert found[0].position.line == 5


def test_a_model_s_primary_key_is_a_deprecation_warning_at_its_line(tmp_path: Path) -> None:
    # Scenario: a project written for 0.1 (primaryKey was required, and never used) stays
    # valid, and is told to drop the line; without it, nothing is said.
    text = HEADER + "kind: Model\nmetadata: {name: m}\nspec:\n  source: w\n  table: t\n" \
        "  primaryKey: id\n"
    [found] = [d for d in _diagnostics(tmp_path, text) if d.field == "spec.primaryKey"]
    assert found.severity is Severity.WARNING and _where(found)[:2] == (7, 15)
    assert "deprecated and ignored" in found.message and "matchKey.source" in found.message
    without = text.replace("  primaryKey: id\n", "")
    assert not [d for d in _diagnostics(tmp_path, without) if "primaryKey" in d.message]


def test_invalid_value_deep_in_a_condition_tree(tmp_path: Path) -> None:
    # Scenario: a predicate with two operators, inside all → not.
    text = HEADER + (
        "kind: Segment\nmetadata: {name: s}\nspec:\n  model: m\n  where:\n    all:\n"
        "      - not: {column: a, eq: 1, ne: 2}\n"
    )
    errors = [d for d in _diagnostics(tmp_path, text) if d.severity is Severity.ERROR]
    assert any(_where(d) == (8, 14, "spec.where.all[0].not") and "exactly one operator"
               in d.message for d in errors), errors


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("apiVersion: v2\nkind: Model\nmetadata: {name: m}\nspec: {source: s, table: t}\n",
         "apiVersion must be 'reconciler/v1'"),
        (HEADER + "kind: Activaton\nmetadata: {name: a}\n", "did you mean 'Activation'?"),
        ("- just\n- a list\n", "must be a mapping"),
        (HEADER + "kind: Model\nmetadata: {name: Bad_Name}\nspec: {source: s, table: t}\n",
         "is not a valid name"),
        (HEADER + "kind: Model\nmetadata: {name: m}\nspec: {source: s}\n",
         "exactly one of `sql` or `table`"),
    ],
)
def test_document_level_errors(tmp_path: Path, document: str, expected: str) -> None:
    # Scenario: each malformed document gets one clear message.
    diagnostics = _diagnostics(tmp_path, document)
    assert any(expected in d.message for d in diagnostics), diagnostics


def test_literal_credential_is_refused_without_echoing_it(tmp_path: Path) -> None:
    # Scenario: a secret pasted into a credential field.
    text = HEADER + (
        "kind: Destination\nmetadata: {name: d}\nspec:\n  type: actito\n"
        "  baseUrl: https://api.actito.com\n  entity: e\n  profileTable: P\n"
        "  credentials: {apiKey: s3cr3t-value}\n"
        "  fileTransfer: {protocol: sftp, host: h, username: u, password: '${env:FTP_PW}'}\n"
    )
    [d] = _diagnostics(tmp_path, text)
    assert _where(d) == (9, 25, "spec.credentials.apiKey")
    assert "environment reference" in d.message and "s3cr3t" not in str(d)


def test_schedule_duration_and_timezone_errors(tmp_path: Path) -> None:
    # Scenario: a bad interval and an unknown time zone in destination defaults.
    text = HEADER + (
        "kind: Destination\nmetadata: {name: d}\nspec:\n  type: selligent\n"
        "  baseUrl: http://x\n  organization: O\n  list: L\n"
        "  credentials: {apiKey: '${env:K}', apiSecret: '${env:S}'}\n"
        "  defaults:\n    schedule: {every: 90 minutes}\n"
        "    warnings: {maxRemovalRatio: 1.5}\n"
    )
    diagnostics = _diagnostics(tmp_path, text)
    fields = {d.field: d.message for d in diagnostics}
    assert "not a duration" in fields["spec.defaults.schedule.every"]
    assert "spec.defaults.warnings.maxRemovalRatio" in fields
    text2 = text.replace("{every: 90 minutes}", "{cron: '0 6 * * *', timezone: Mars/Olympus}")
    assert any("IANA time zone" in d.message for d in _diagnostics(tmp_path, text2))


def test_field_created_without_type(tmp_path: Path) -> None:
    # Scenario: `create: true` needs a type.
    text = HEADER + (
        "kind: Activation\nmetadata: {name: a}\nspec:\n  model: m\n  destination: d\n"
        "  fields: [{source: x, destination: X, create: true}]\n"
    )
    assert any("needs a `type`" in d.message for d in _diagnostics(tmp_path, text))


def test_a_yaml_syntax_error_is_the_only_error(example_copy: Path) -> None:
    # Scenario: segments.yaml loses a closing brace: the syntax error is reported, located,
    # and the activations using its segments get no false "is not defined" errors.
    replace_in(example_copy / "segments.yaml", "gte: 1000}", "gte: 1000")
    errors = [d for d in load_project(example_copy)[1] if d.severity is Severity.ERROR]
    assert len(errors) == 1, [str(e) for e in errors]
    assert errors[0].position.file.name == "segments.yaml"
    assert "not defined" not in errors[0].message


def test_an_invalid_document_is_not_also_undefined(example_copy: Path) -> None:
    # Scenario: a segment fails validation (unknown operator): its own error is reported,
    # not "Segment 'vip-customers' is not defined" at every activation using it.
    replace_in(example_copy / "segments.yaml", "gte: 1000", "gte_: 1000")
    errors = [d for d in load_project(example_copy)[1] if d.severity is Severity.ERROR]
    assert errors and all(e.position.file.name == "segments.yaml" for e in errors), [
        str(e) for e in errors]


def test_a_real_dangling_reference_is_still_reported(example_copy: Path) -> None:
    # Scenario: with every file readable and valid, a mistyped segment name is an error.
    replace_in(example_copy / "activations" / "vip-selligent.yaml", "segment: vip-customers",
               "segment: vip-customer")
    messages = [d.message for d in load_project(example_copy)[1]]
    assert any("which is not defined; did you mean 'vip-customers'?" in m for m in messages)


@pytest.mark.parametrize("pattern", ["../../etc/passwd", "keys/churn.zip", "..\\\\x.zip", "..",
                                     "a\\rRNFR x.zip"])
def test_a_key_file_name_pattern_that_is_a_path_is_refused(example_copy: Path,
                                                           pattern: str) -> None:
    # Scenario (found by tests/fuzz): targetList.fileNamePattern '../../etc/passwd' was taken
    # as is, and the key file put that far from the location's directory.
    replace_in(example_copy / "activations" / "sms-actito.yaml", 'targetList: {id: "502"}',
               f'targetList: {{id: "502", fileNamePattern: "{pattern}"}}')
    errors = [d for d in load_project(example_copy)[1] if d.severity is Severity.ERROR]
    assert [(d.field, d.position.line) for d in errors] == [
        ("spec.targetList.fileNamePattern", 14)]
    assert "is not a file name" in errors[0].message
