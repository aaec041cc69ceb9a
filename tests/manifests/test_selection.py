"""Selecting activations by name and by label (`-a NAME`, `-l KEY=VALUE`)."""
from __future__ import annotations

import re

import pytest

from reconciler.errors import ReconcilerError
from reconciler.manifests.selection import SelectionError, parse_labels, select_by_labels

LABELLED = {"vip-selligent": {"team": "crm", "tier": "gold"},
            "churn-selligent": {"team": "crm"},
            "sms-actito": {"team": "mobile"},
            "churn-actito": {}}


@pytest.mark.parametrize(("names", "labels", "chosen"), [
    ([], [], []),  # nothing asked: the command's own default (all)
    (["sms-actito"], [], ["sms-actito"]),  # names alone pass through (removed ones too)
    ([], ["team=crm"], ["churn-selligent", "vip-selligent"]),
    ([], ["team=crm", "tier=gold"], ["vip-selligent"]),  # every label at once
    ([], [" team = crm "], ["churn-selligent", "vip-selligent"]),
    (["vip-selligent", "sms-actito"], ["team=crm"], ["vip-selligent"]),  # both conditions
    ([], ["team=crm", "team=crm"], ["churn-selligent", "vip-selligent"]),
])
def test_selection(names: list[str], labels: list[str], chosen: list[str]) -> None:
    # Scenario: each row is a command line's -a and -l options and the activations it gets.
    assert select_by_labels(LABELLED, names, parse_labels(labels)) == chosen


@pytest.mark.parametrize(("labels", "message"), [
    (["team"], "-l/--label 'team': expected KEY=VALUE"),
    (["=crm"], "expected KEY=VALUE"),
    (["team=crm", "team=mobile"], "gives team two values ('crm' and 'mobile')"),
])
def test_a_selector_that_cannot_be_read_is_refused(labels: list[str], message: str) -> None:
    # Scenario: a typo in -l is an error naming the option, not a silent empty selection.
    with pytest.raises(SelectionError, match=re.escape(message)):
        parse_labels(labels)


def test_no_match_is_an_error_listing_the_labels_in_use() -> None:
    # Scenario: a scheduled job's `-l team=crn` typo syncs nothing and says so, with the
    # labels the project does use.
    with pytest.raises(ReconcilerError) as caught:
        select_by_labels(LABELLED, [], parse_labels(["team=crn"]))
    assert str(caught.value) == "no activation has the labels team=crn"
    assert caught.value.hint == "labels in use: team=crm, team=mobile, tier=gold"
    with pytest.raises(SelectionError, match="no activation among sms-actito has the labels"):
        select_by_labels(LABELLED, ["sms-actito"], parse_labels(["team=crm"]))
