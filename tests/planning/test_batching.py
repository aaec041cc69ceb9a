"""The plan shows how apply cuts its changes into calls (issue 12: batch size by time)."""
from __future__ import annotations

from reconciler.changes.batching import Batching
from reconciler.planning.plan import ActivationPlan, MembershipChange
from reconciler.planning.render import activation_lines

SELLIGENT = Batching(first_rows=2_000, max_rows=10_000,
                     sized_by="then sized by each call's time to stay well under the 15-s "
                              "inbound limit")


def test_calls_range_from_full_sized_calls_to_calls_of_the_first_size() -> None:
    # Scenario: 12,304 adds, 35 removals and 12,304 updates: 2 + 1 + 2 calls if every call
    # carries 10,000 rows, 7 + 1 + 7 if none grows past the first 2,000.
    batching = SELLIGENT.for_changes(12_304, 35, 12_304)
    assert (batching.calls_min, batching.calls_max) == (5, 15)
    assert batching.describe() == (
        "5–15 data calls: 2,000 rows a call at first, at most 10,000, then sized by each "
        "call's time to stay well under the 15-s inbound limit")


def test_one_size_when_the_first_is_the_most() -> None:
    batching = Batching(first_rows=20_000, max_rows=1_000, sized_by="fixed").for_changes(2_500)
    assert (batching.calls_min, batching.calls_max) == (3, 3)
    assert batching.describe() == "3 data calls: 1,000 rows a call, fixed"


def test_the_plan_text_shows_the_batches_only_when_there_are_rows_to_send() -> None:
    def plan(adds: int) -> ActivationPlan:
        return ActivationPlan(
            activation="vip", destination="selligent", destination_type="selligent",
            target="org ACME, list CONTACTS", remote_name="VIP",
            members=MembershipChange(desired=adds, matched=adds, adds=adds, removes=0),
            batching=SELLIGENT.for_changes(adds))

    assert "  batches  1–2 data calls: 2,000 rows a call at first" in "\n".join(
        activation_lines(plan(2_500)))
    assert not any("batches" in line for line in activation_lines(plan(0)))
