"""The Selligent client against the sandbox's documented (and knob-set) limits: the plain-text
429 and its reset, a capped `take`, the record count, a 400 for an unknown segment, and the
15-s inbound time-out (api/selligent.md §8)."""
from __future__ import annotations

import math
from typing import Any

import pytest

from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.selligent import SelligentAdapter, SelligentClient, SelligentLimits
from reconciler.destinations.selligent.errors import SelligentNotFoundError
from reconciler.sandbox.http import Faults
from reconciler.sandbox.selligent import SelligentSandbox
from tests.destinations.selligent.harness import FAST, LIST, ORG, contacts, start
from tests.timing import StepClock


def _limits(**changes: Any) -> SelligentLimits:
    return SelligentLimits(**{**vars(FAST), **changes})


def _adapter(sandbox: SelligentSandbox, **limits: Any) -> SelligentAdapter:
    return SelligentAdapter(base_url=sandbox.url, organization=ORG, list_api_name=LIST,
                            api_key="sandbox-key", api_secret="sandbox-secret",
                            limits=_limits(**limits))


def test_a_documented_429_is_waited_out_by_its_reset_header_even_a_minute_away() -> None:
    # Scenario: a key allowed 5 calls a minute makes 12: the plain-text 429s carry no
    # Retry-After, only X-RateLimit-Reset; the client waits what it says (up to ~60 s, on the
    # test's clock) and every call succeeds.
    clock = StepClock()
    with start(requests_per_minute=5, faults=Faults(clock=clock)) as sandbox:
        client = SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret", FAST,
                                 sleep=clock.sleep)
        for _ in range(12):
            client.get_fields(ORG, LIST)
        limited = [e for e in sandbox.log.entries() if e.status == 429]
    assert len(limited) == 2  # the 6th and the 11th call, each once
    assert all(e.response_body.startswith(b"API calls quota exceeded") for e in limited)
    assert len(clock.slept) == 2 and all(59 <= w <= 61 for w in clock.slept), clock.slept


def test_a_capped_take_still_reads_the_whole_list_and_segment() -> None:
    # Scenario: a tenant answers at most 200 items whatever `take` asks: the contact index
    # (record count first, pages in parallel) and a segment's members (no count: to an
    # empty page) are read whole, never as a smaller index.
    with start(max_take=200) as sandbox:
        adapter = _adapter(sandbox, page_size=1000, read_in_flight=4)
        every = {str(r["EXTERNAL_ID"]) for r in contacts(sandbox).records.values()}
        index = [key for page in adapter.iter_contact_keys("EXTERNAL_ID") for key in page]
        adapter.create_static_segment("S", "S")
        adapter.add_segment_members("S", "EXTERNAL_ID", sorted(every)[:450])
        members = [k for page in adapter.iter_segment_member_keys("S", "EXTERNAL_ID")
                   for k in page]
        searches = [e for e in sandbox.log.entries() if e.path.endswith("/CONTACTS/data/search")]
    assert sorted(index) == sorted(every) and len(index) == len(every)
    assert len(searches) == math.ceil(len(every) / 200)  # the count says when to stop
    assert sorted(members) == sorted(every)[:450]


def test_a_read_that_ends_short_of_the_record_count_is_an_error_naming_the_list() -> None:
    with start() as sandbox:
        client = SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret", FAST)
        count = client.count_list_records(ORG, LIST)
        assert count == len(contacts(sandbox).records)
        with pytest.raises(PermanentApiError, match=f"list CONTACTS: read {count:,} records "
                           f"of the {count + 7:,}"):
            list(client.search_list_data(ORG, LIST, ["EXTERNAL_ID"], expected=count + 7))


@pytest.mark.parametrize("status", [404, 400])
def test_an_unknown_segment_is_not_found_whether_404_or_400(status: int) -> None:
    # The Swagger documents only 200 for a segment GET: both answers mean "create it".
    with start(unknown_segment_status=status) as sandbox:
        adapter = _adapter(sandbox)
        assert adapter.read_segment("NOPE") is None
        with pytest.raises(SelligentNotFoundError) as missing:
            adapter.client.get_segment(ORG, LIST, "NOPE")
        assert missing.value.status == status
        with pytest.raises(PermanentApiError) as refused:  # another 400 stays a refusal
            adapter.client.load_list_data(ORG, LIST, ["NOPE_FIELD"], ["NOPE_FIELD"], [["x"]])
        assert not isinstance(refused.value, SelligentNotFoundError)


def test_loads_too_slow_for_the_inbound_limit_are_split_and_later_ones_sized_smaller() -> None:
    # Scenario: the tenant cuts calls at 0.3 s (the documented 15 s, scaled down) and takes
    # 0.2 s per 1,000 rows: a 3,000-row first call is cut, its halves too, until calls fit;
    # every row is confirmed and the later calls start at the size that fitted.
    with start(inbound_limit_seconds=0.3, seconds_per_1000_rows=0.2) as sandbox:
        keys = sorted(str(r["EXTERNAL_ID"]) for r in contacts(sandbox).records.values())[:4000]
        client = SelligentClient(sandbox.url, "sandbox-key", "sandbox-secret", _limits(
            max_rows_per_call=3000, initial_rows_per_call=3000, inbound_limit_seconds=0.3))
        result = client.load_list_data(ORG, LIST, ["EXTERNAL_ID"], ["EXTERNAL_ID", "NAME"],
                                       ([k, "n"] for k in keys), import_option="OnlyUpdate")
        sizes = [len(e.request_json()) for e in sandbox.log.entries()
                 if e.path.endswith("/data/load") and e.status == 200]
    assert result.updated == 4000 and result.failed == 0
    assert sum(sizes) == 4000 and max(sizes) * 0.2 / 1000 < 0.3
    assert client.sizer.rows < 1500
