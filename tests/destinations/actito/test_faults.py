"""A whole activation run against a flaky Actito converges to the same data as a calm one."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from reconciler.destinations.actito import AttributeSpec, ValueType
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import (
    api_list,
    existing_keys,
    make_adapter,
    profile,
    profile_count,
)

KEYS = [f"C{n:06d}" for n in range(1, 61)] + ["NOPE-1"]


def _activate(sandbox: ActitoSandbox) -> dict[str, Any]:
    """What the executor does for one Actito activation; returns the resulting remote data."""
    adapter = make_adapter(sandbox, "sftp")
    adapter.ensure_attributes([AttributeSpec("churnScore", ValueType.DECIMAL)])
    adapter.ensure_target_list(api_list("Churn risk", "customerId", timedelta(days=2)))
    existing = existing_keys(adapter, "customerId", list(KEYS))
    report = adapter.replace_members(api_list("Churn risk", "customerId"), KEYS)
    rows = [(key, round(int(key[1:]) / 100, 2)) for key in sorted(existing)]
    update = adapter.update_profiles("customerId", ["churnScore"], rows)
    record = next(r for r in sandbox.store.target_lists.values() if r["name"] == "Churn risk")
    return {
        "existing": existing, "matched": report.matched, "updated": update.updated,
        "members": sorted(record["memberIds"]), "profiles": profile_count(sandbox),
        "scores": {k: (profile(sandbox, k) or {}).get("churnScore") for k in KEYS},
    }


def test_a_fault_injected_run_ends_with_the_same_data(start: Callable[..., ActitoSandbox],
                                                      tmp_path: Any) -> None:
    # Scenario: 25% 503s, 10% dropped connections and latency; retries must converge, never
    # exceeding 5 requests in flight, and never creating a profile.
    calm = start(data_dir=tmp_path / "calm")
    expected = _activate(calm)
    flaky = start(data_dir=tmp_path / "flaky", error_ratio=0.25, drop_ratio=0.1,
                  latency_ms=5, fault_seed=7)
    observed = _activate(flaky)
    assert observed == expected
    assert expected["matched"] == len(expected["existing"]) < len(KEYS)
    entries = flaky.log.entries()
    assert {e.fault for e in entries} >= {"error", "dropped"}
    assert max(e.in_flight for e in entries) <= 5
