"""The naming rules of manifests/naming.py, table-driven: pure functions, no fixtures."""
from __future__ import annotations

import pytest

from reconciler.manifests.naming import (
    SELLIGENT_API_NAME,
    actito_file_stem,
    audience_name,
    selligent_api_name,
    selligent_api_name_differs,
    selligent_api_name_refusal,
)

LONG = "A" * 100


@pytest.mark.parametrize(("audience", "api_name", "differs"), [
    ("VIP customers", "VIP_customers", False),
    ("VIP  customers", "VIP__customers", False),  # one underscore per space, as always
    ("Churn_risk", "Churn_risk", False),
    (LONG, LONG, False),
    ("2024 VIP", "_2024_VIP", True),
    (" VIP ", "VIP", True),
    ("Été 2024", "Ete_2024", True),
    ("Churn-risk 2", "Churn_risk_2", True),
    ("Clients fidèles", "Clients_fideles", True),
    ("Straße", "Stra_e", True),  # ß has no unaccented form
    ("50% off!", "_50__off_", True),
])
def test_selligent_api_name(audience: str, api_name: str, differs: bool) -> None:
    # Scenario: each audience name gives one api name, valid for Selligent.
    assert selligent_api_name(audience) == api_name
    assert SELLIGENT_API_NAME.match(api_name)
    assert selligent_api_name_differs(audience) is differs
    assert selligent_api_name(api_name) == api_name  # an api name is its own api name


@pytest.mark.parametrize(("audience", "words"), [
    ("VIP", None),
    ("A" * 128, None),
    ("A" * 129, "api name of 129 characters, over the 128"),
    ("   ", "which has no letter or digit"),
    ("日本", "api name '__', which has no letter or digit"),
    ("- -", "which has no letter or digit"),
])
def test_selligent_api_name_refusal(audience: str, words: str | None) -> None:
    # Scenario: a name without letters or digits, or too long, is refused with the reason.
    refusal = selligent_api_name_refusal(audience)
    assert refusal is None if words is None else (refusal is not None and words in refusal)


@pytest.mark.parametrize(("given", "segment", "model", "expected"), [
    ("Churn risk", "churn-risk", None, "Churn risk"),
    (None, "churn-risk", None, "churn-risk"),
    (None, None, "customers", "customers"),
])
def test_audience_name_defaults_to_the_segment_or_model(
    given: str | None, segment: str | None, model: str | None, expected: str
) -> None:
    # Scenario: the remote list's name is audienceName, else the segment's or model's name.
    assert audience_name(given, segment, model, "activation") == expected


@pytest.mark.parametrize(("list_name", "stem"), [
    ("Churn risk", "churn-risk"), ("sms-benelux", "sms-benelux"), ("Été 2024!", "t-2024"),
    ("***", "list"),
])
def test_actito_file_stem(list_name: str, stem: str) -> None:
    # Scenario: Actito file names come from the list name, lowercase letters, digits and '-'.
    assert actito_file_stem(list_name) == stem
