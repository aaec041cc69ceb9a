"""Semantic checks over the example project, each broken on purpose."""
from __future__ import annotations

from pathlib import Path

from reconciler.manifests.diagnostics import Diagnostic, Severity
from reconciler.manifests.loading import load_project
from reconciler.manifests.models import EmptyValues
from reconciler.manifests.settings import effective_activations
from tests.manifests.conftest import replace_in


def _problems(path: Path) -> list[Diagnostic]:
    return load_project(path)[1]


def _errors(path: Path) -> list[Diagnostic]:
    return [d for d in _problems(path) if d.severity is Severity.ERROR]


def test_example_project_is_valid(example_copy: Path) -> None:
    # Scenario: the committed example project has no errors and no warnings.
    assert _problems(example_copy) == []


def test_duplicate_name_within_a_kind(example_copy: Path) -> None:
    # Scenario: two Segments share a name; the second is reported, pointing at the first.
    replace_in(example_copy / "segments.yaml", "name: sms-benelux", "name: churn-risk")
    [d] = [e for e in _errors(example_copy) if "duplicate" in e.message]
    assert d.field == "metadata.name" and d.position.line == 30
    assert "segments.yaml:17:9" in d.message


def test_same_name_in_different_kinds_is_fine(example_copy: Path) -> None:
    # Scenario: a Model and a Segment may share a name.
    replace_in(example_copy / "segments.yaml", "name: vip-customers", "name: customers")
    replace_in(example_copy / "activations/vip-selligent.yaml", "segment: vip-customers",
               "segment: customers")
    assert _errors(example_copy) == []


def test_every_kind_of_dangling_reference(example_copy: Path) -> None:
    # Scenario: model→source, segment→model, activation→segment/destination all broken.
    replace_in(example_copy / "models.yaml", "source: warehouse", "source: lake")
    replace_in(example_copy / "segments.yaml", "model: customers", "model: clients")
    replace_in(example_copy / "activations/sms-actito.yaml", "segment: sms-benelux",
               "segment: sms-belgium")
    replace_in(example_copy / "activations/churn-selligent.yaml",
               "destination: selligent-sandbox", "destination: selligent-prod")
    messages = {(d.position.file.name, d.field): d.message for d in _errors(example_copy)}
    assert "Source 'lake', which is not defined" in messages[("models.yaml", "spec.source")]
    assert "Model 'clients'" in messages[("segments.yaml", "spec.model")]
    assert "did you mean 'sms-benelux'?" in messages[("sms-actito.yaml", "spec.segment")]
    assert "did you mean 'selligent-sandbox'?" in messages[
        ("churn-selligent.yaml", "spec.destination")]


def test_selligent_api_name_with_accent_is_explained_in_a_note(example_copy: Path) -> None:
    # Scenario: an accented letter loses its accent; validate says what the api name will be.
    replace_in(example_copy / "activations/vip-selligent.yaml", "audienceName: VIP customers",
               "audienceName: Clients fidèles")
    [d] = _problems(example_copy)
    assert d.severity is Severity.NOTE
    assert (d.field, d.position.line, d.position.column) == ("spec.audienceName", 11, 17)
    assert d.message == ("audience name 'Clients fidèles' gives the Selligent api name "
                         "'Clients_fideles' (api names hold only letters, digits and "
                         "underscores, and do not start with a digit)")


def test_selligent_default_audience_name_from_segment_is_checked(example_copy: Path) -> None:
    # Scenario: without audienceName, the segment's name ('-' included) gives the api name.
    replace_in(example_copy / "activations/churn-selligent.yaml", "  audienceName: Churn risk\n",
               "")
    [d] = _problems(example_copy)
    assert d.severity is Severity.NOTE and d.field == "spec.segment"
    assert "'churn-risk' gives the Selligent api name 'churn_risk'" in d.message


def test_selligent_names_validate_explains_or_refuses(example_copy: Path) -> None:
    # Scenario: a leading digit, outer blanks, accents are explained; no letter or a name over
    # the api name's length is refused, each at the audienceName.
    cases = {
        "2024 VIP": (Severity.NOTE, "gives the Selligent api name '_2024_VIP'"),
        "' VIP '": (Severity.NOTE, "audience name ' VIP ' gives the Selligent api name 'VIP'"),
        "Été 2024": (Severity.NOTE, "gives the Selligent api name 'Ete_2024'"),
        "V" * 100: (None, ""),
        "VIP customers": (None, ""),
        "'日本'": (Severity.ERROR, "api name '__', which has no letter or digit"),
        "V" * 129: (Severity.ERROR, "of 129 characters, over the 128 an api name can hold"),
    }
    path = example_copy / "activations/vip-selligent.yaml"
    original = path.read_text("utf-8")
    for name, (severity, words) in cases.items():
        path.write_text(original.replace("audienceName: VIP customers", f"audienceName: {name}"),
                        "utf-8")
        problems = _problems(example_copy)
        assert [d.severity for d in problems] == ([severity] if severity else []), name
        if severity:
            assert words in problems[0].message, name
            assert (problems[0].field, problems[0].position.line) == ("spec.audienceName", 11)


def test_two_activations_on_one_selligent_api_name(example_copy: Path) -> None:
    # Scenario: "VIP customers" and "VIP_customers" both become VIP_customers on CONTACTS.
    replace_in(example_copy / "activations/churn-selligent.yaml", "audienceName: Churn risk",
               "audienceName: VIP_customers")
    [d] = _errors(example_copy)
    assert d.position.file.name == "vip-selligent.yaml" or d.position.file.name == (
        "churn-selligent.yaml")
    assert "already owned by activation" in d.message


def test_actito_match_key_must_be_unique_attribute(example_copy: Path) -> None:
    # Scenario: matching on a non-unique attribute, then declaring it unique.
    replace_in(example_copy / "activations/churn-actito.yaml", "destination: customerId}",
               "destination: shopId}")
    [d] = _errors(example_copy)
    assert d.field == "spec.matchKey.destination" and "not a unique attribute" in d.message
    replace_in(example_copy / "destinations.yaml", "uniqueAttributes: [customerId]",
               "uniqueAttributes: [customerId, shopId]")
    assert _errors(example_copy) == []


def test_missing_match_key_everywhere(example_copy: Path) -> None:
    # Scenario: an Actito activation with no matchKey and no destination default.
    replace_in(example_copy / "activations/sms-actito.yaml",
               "  matchKey: {source: phone, destination: gsmNumber}\n", "")
    [d] = _errors(example_copy)
    assert "has no matchKey" in d.message and d.field == "spec"


def test_validity_shorter_than_schedule_is_a_warning(example_copy: Path) -> None:
    # Scenario: a 36h list refreshed weekly; then a default 2d list refreshed every 3 days.
    replace_in(example_copy / "activations/sms-actito.yaml", '"0 6 * * *"', '"0 6 * * 1"')
    [d] = _problems(example_copy)
    assert d.severity is Severity.WARNING and d.field == "spec.validityPeriod"
    assert "valid for 36h" in d.message and "every 7d" in d.message
    replace_in(example_copy / "activations/churn-actito.yaml", "{every: 1d}", "{every: 3d}")
    warned = {(d.position.file.name, d.field) for d in _problems(example_copy)}
    assert ("destinations.yaml", "spec.defaults.validityPeriod") in warned


def test_field_mapped_twice(example_copy: Path) -> None:
    # Scenario: the same destination field twice in one activation.
    replace_in(example_copy / "activations/vip-selligent.yaml",
               "    - {source: lifetime_value, destination: LTV, create: true, type: decimal}\n",
               "    - {source: lifetime_value, destination: LTV, create: true, type: decimal}\n"
               "    - {source: ltv2, destination: LTV}\n")
    [d] = _errors(example_copy)
    assert d.field == "spec.fields.1.destination" and "mapped twice" in d.message


def test_two_activations_on_one_actito_list_name(example_copy: Path) -> None:
    # Scenario: sms-actito takes the list name churn-actito already owns (case-insensitive).
    replace_in(example_copy / "activations/sms-actito.yaml", "  destination: actito-sandbox\n",
               "  destination: actito-sandbox\n  audienceName: CHURN RISK\n")
    [d] = _errors(example_copy)
    assert "Actito external target list 'CHURN RISK' is already owned" in d.message


def test_notify_names_an_undefined_channel(example_copy: Path) -> None:
    # Scenario: an activation and a destination's defaults notify channels nobody defined.
    replace_in(example_copy / "activations/vip-selligent.yaml", "notify: [crm-alerts]",
               "notify: [crm-alert]")
    replace_in(example_copy / "destinations.yaml", "minMatchRate: 0.8}",
               "minMatchRate: 0.8, notify: [crm-alerts, ops-pager]}")
    found = {(d.position.file.name, d.field, d.position.line, d.position.column): d.message
             for d in _errors(example_copy)}
    assert len(found) == 2, found
    vip = found[("vip-selligent.yaml", "spec.warnings.notify.0", 15, 45)]
    assert "channel 'crm-alert', which is not defined; did you mean 'crm-alerts'?" in vip
    [ops] = [m for key, m in found.items() if key[1] == "spec.defaults.warnings.notify.1"]
    assert "'ops-pager'" in ops and "defined NotificationChannels: crm-alerts" in ops


def test_email_channel_rules(example_copy: Path) -> None:
    # Scenario: an email channel with a literal password and a username-less login is refused.
    (example_copy / "mail.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: NotificationChannel\nmetadata: {name: crm-mail}\n"
        "spec:\n  type: email\n  host: smtp.example.com\n  password: hunter2\n"
        "  from: reconciler@example.com\n  to: [crm@example.com]\n", "utf-8")
    messages = {d.field: d.message for d in _errors(example_copy)}
    assert "environment reference" in messages["spec.password"]
    assert "hunter2" not in " ".join(messages.values())


def test_etl_id_is_actito_only_and_not_with_empty_values_skip(example_copy: Path) -> None:
    # Scenario: etlId on an Actito activation (fine, and in its effective settings), on a
    # Selligent one (an error), then with the Actito destination's emptyValues: skip (an error:
    # a predefined ETL's columns are fixed).
    replace_in(example_copy / "activations/churn-actito.yaml", '  etlId: "601"', "  etlId: '4021'")
    assert _errors(example_copy) == []
    project, _ = load_project(example_copy)
    assert effective_activations(project)["churn-actito"].etl_id == "4021"
    replace_in(example_copy / "activations/vip-selligent.yaml", "spec:\n", "spec:\n  etlId: x\n")
    [d] = _errors(example_copy)
    assert d.field == "spec.etlId" and "Selligent activation cannot use one" in d.message
    replace_in(example_copy / "activations/vip-selligent.yaml", "  etlId: x\n", "")
    replace_in(example_copy / "destinations.yaml", "  defaults:\n    validityPeriod: 2d",
               "  emptyValues: skip\n  defaults:\n    validityPeriod: 2d")
    [d] = _errors(example_copy)
    assert d.field == "spec.etlId" and d.position.file.name == "churn-actito.yaml"
    assert "'4021' cannot be used with destination 'actito-sandbox' emptyValues: skip" in (
        d.message)
    project, _ = load_project(example_copy)
    assert effective_activations(project)["sms-actito"].empty_values is EmptyValues.SKIP
