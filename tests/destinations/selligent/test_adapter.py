"""The Selligent adapter against the sandbox, including a fault-injected run that converges."""
from __future__ import annotations

from typing import Any

import pytest

from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.selligent import (
    FieldSpec,
    SelligentAdapter,
    SelligentLimits,
)
from reconciler.sandbox.http import Faults
from reconciler.sandbox.seed import is_left_out
from reconciler.sandbox.selligent import SelligentSandbox
from tests.destinations.selligent.harness import FAST, LIST, ORG, contacts, start

KEY_FIELD = "EXTERNAL_ID"
SMALL_CHUNKS = SelligentLimits(**{**vars(FAST), "max_rows_per_call": 200})


def _keys(pages: Any) -> list[str]:
    return [key for page in pages for key in page]


def test_reads_lists_fields_segments_and_the_contact_index(
    sandbox: SelligentSandbox, adapter: SelligentAdapter
) -> None:
    # Scenario: the planner reads lists, fields, static segments and the keys, page by page.
    assert [(i.api_name, i.type) for i in adapter.read_lists()] == [("CONTACTS", "Userlist")]
    assert "MAIL" in [f.name for f in adapter.read_fields()]
    assert adapter.read_static_segments() == []  # the seeded dynamic segment is not listed
    pages = list(adapter.iter_contact_keys(KEY_FIELD))
    expected = {v[KEY_FIELD] for v in contacts(sandbox).records.values()}
    assert len(pages) > 1 and all(len(p) <= FAST.page_size for p in pages)
    assert set(_keys(pages)) == expected and len(_keys(pages)) == len(expected)
    adapter.check_access()


def test_segment_lifecycle_adds_and_removes_members_by_key(adapter: SelligentAdapter) -> None:
    # Scenario: create the audience's segment twice (idempotent), add members (unknown keys only
    # counted), read them back, remove some.
    segment = adapter.create_static_segment("VIP_customers", "VIP customers",
                                            "Lifetime value over 1000")
    assert (segment.api_name, segment.name, segment.type) == (
        "VIP_customers", "VIP customers", "Static")
    assert adapter.create_static_segment("VIP_customers", "VIP customers") == segment
    added = adapter.add_segment_members(segment.api_name, KEY_FIELD,
                                        ["C000001", "C000002", "C000003", "NOBODY"])
    assert (added.inserted, added.not_found) == (3, 1)
    assert sorted(_keys(adapter.iter_segment_member_keys(segment.api_name, KEY_FIELD))) == [
        "C000001", "C000002", "C000003"]
    removed = adapter.remove_segment_members(segment.api_name, KEY_FIELD, ["C000002", "NOBODY"])
    assert (removed.deleted, removed.not_found) == (1, 1)
    assert adapter.read_static_segments()[0].name == "VIP customers"
    with pytest.raises(PermanentApiError, match="Dynamic"):
        adapter.create_static_segment("BELGIAN_CONTACTS", "BELGIAN CONTACTS")


def test_updates_fields_of_existing_contacts_only(
    sandbox: SelligentSandbox, adapter: SelligentAdapter
) -> None:
    # Scenario: field updates change known contacts and never insert unknown ones.
    before = len(contacts(sandbox).records)
    assert adapter.create_missing_fields([FieldSpec("LTV", "Float"), FieldSpec("MAIL")]) == ["LTV"]
    assert adapter.create_missing_fields([FieldSpec("LTV", "Float")]) == []
    result = adapter.update_contact_fields(KEY_FIELD, ["LTV"], [["C000001", 1234.5], ["NEW", 1]])
    assert (result.updated, result.not_found, result.inserted) == (1, 1, 0)
    assert len(contacts(sandbox).records) == before
    pages = adapter.iter_contacts(KEY_FIELD, ["LTV"])
    rows = [r for page in pages for r in page if r[1] is not None]
    assert rows == [["C000001", 1234.5]]
    with pytest.raises(ValueError):
        adapter.update_contact_fields(KEY_FIELD, [KEY_FIELD], [])


def _run_operations(adapter: SelligentAdapter) -> None:
    """The same writes, for the clean and the faulty sandbox."""
    adapter.create_missing_fields([FieldSpec("LTV", "Float")])
    segment = adapter.create_static_segment("Fault_run", "Fault run").api_name
    adapter.add_segment_members(segment, KEY_FIELD, (f"C{i:06d}" for i in range(1, 1201)))
    adapter.remove_segment_members(segment, KEY_FIELD, (f"C{i:06d}" for i in range(1, 201)))
    adapter.update_contact_fields(KEY_FIELD, ["LTV"], ([f"C{i:06d}", i] for i in range(1, 601)))


def _final_data(sandbox: SelligentSandbox) -> tuple[Any, ...]:
    table = contacts(sandbox)
    segment = table.segment("Fault_run")
    assert segment is not None
    members = sorted(table.records[r]["EXTERNAL_ID"] for r in segment.members)
    ltv = sorted((v["EXTERNAL_ID"], v["LTV"]) for v in table.records.values() if v["LTV"])
    return members, ltv, [f.name for f in table.fields]


def test_fault_injected_run_converges_to_the_same_data() -> None:
    # Scenario: 20% 5xx, 429 bursts, dropped connections and 100 ms latency; same final data.
    faults = Faults(latency_ms=100, error_ratio=0.2, drop_ratio=0.05, requests_per_second=5,
                    seed=11)
    results = []
    for fault in (Faults(), faults):
        with start(faults=fault) as sandbox:
            with SelligentAdapter(base_url=sandbox.url, organization=ORG, list_api_name=LIST,
                                  api_key="sandbox-key", api_secret="sandbox-secret",
                                  limits=SMALL_CHUNKS) as adapter:
                _run_operations(adapter)
            results.append(_final_data(sandbox))
            log = sandbox.log.entries()
    assert results[0] == results[1]
    known = [f"C{i:06d}" for i in range(1, 1201) if not is_left_out(f"C{i:06d}")]
    assert results[0][0] == known[-len([k for k in known if k > "C000200"]):]
    assert len(results[0][1]) == len([k for k in known if k <= "C000600"])
    seen = {e.fault for e in log}
    assert "rate-limited" in seen and seen & {"error", "dropped"}, seen
