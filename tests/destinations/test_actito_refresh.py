"""When an Actito list's key file must be dropped again although no member changed."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.destinations.actito.models import TargetList
from reconciler.destinations.actito.observer import file_refresh
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import EffectiveActivation, effective_activations

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def churn() -> EffectiveActivation:
    project, _ = load_project(REPO / "manifests")
    return effective_activations(project)["churn-actito"]  # every 1d, valid 2d


def _list(status: str, retrieved: dt.datetime | None) -> TargetList:
    report = {"retrievedAt": retrieved.isoformat()} if retrieved else None
    return TargetList("1", "Churn risk", "customerId", dt.timedelta(days=2), status, 10,
                      "f.zip", report)


@pytest.mark.parametrize(
    ("status", "retrieved", "expected"),
    [
        ("EXPIRED", NOW - dt.timedelta(days=3), "has expired"),
        ("WAITING_FOR_FILE", None, "no file has been read"),
        ("ACTIVE", NOW - dt.timedelta(hours=22), None),  # expires in 26h > 1d + 1h
        ("ACTIVE", NOW - dt.timedelta(hours=24), "before the next scheduled run"),
    ],
)
def test_file_refresh(churn: EffectiveActivation, status: str, retrieved: dt.datetime | None,
                      expected: str | None) -> None:
    # Scenario: a daily activation with a 2-day list, its file read at various times.
    reason = file_refresh(_list(status, retrieved), churn, NOW)
    assert (reason is None) if expected is None else (expected in (reason or ""))
