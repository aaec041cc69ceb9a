"""The request budget a Selligent destination paces under: documented, shared, overridable."""
from __future__ import annotations

import pytest

from reconciler.destinations.factory import open_selligent_adapter
from reconciler.manifests.models import SelligentDestination

BASE = {"type": "selligent", "baseUrl": "https://tenant.slgnt.eu/Portal/Api",
        "organization": "ORG", "list": "CONTACTS",
        "credentials": {"apiKey": "${env:SL_KEY}", "apiSecret": "${env:SL_SECRET}"}}


def _pace(monkeypatch: pytest.MonkeyPatch, limits: dict[str, object] | None = None) -> float:
    monkeypatch.setenv("SL_KEY", "k")
    monkeypatch.setenv("SL_SECRET", "s")
    spec = SelligentDestination.model_validate({**BASE, **({"limits": limits} if limits else {})})
    adapter = open_selligent_adapter("sl", spec)
    try:
        pace = adapter.client.limits.requests_per_second
        assert pace is not None
        return pace
    finally:
        adapter.close()


def test_the_default_pace_is_80_percent_of_the_documented_2500_a_minute(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _pace(monkeypatch) == pytest.approx(2500 * 0.8 / 60)


def test_budget_and_share_are_settings_and_a_hand_set_pace_wins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _pace(monkeypatch, {"requestsPerMinute": 600, "budgetShare": 0.5}) == \
        pytest.approx(5.0)
    assert _pace(monkeypatch, {"requestsPerMinute": 600, "requestsPerSecond": 2}) == 2.0


def test_two_destinations_on_one_key_share_one_pacer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two destinations (e.g. two lists) of one tenant with one service account: one budget.
    monkeypatch.setenv("SL_KEY", "k")
    monkeypatch.setenv("SL_SECRET", "s")
    one = open_selligent_adapter("a", SelligentDestination.model_validate(BASE))
    two = open_selligent_adapter("b", SelligentDestination.model_validate(
        {**BASE, "list": "OTHER"}))
    try:
        assert one.client.transport._pacer is two.client.transport._pacer
    finally:
        one.close()
        two.close()
