"""Rows per Selligent data call, sized by time under the documented 15-s inbound limit."""
from __future__ import annotations

from reconciler.destinations.errors import TransientApiError
from reconciler.destinations.selligent.sizing import CallSizer, SizingSettings


def test_starts_safe_then_grows_towards_the_time_target_up_to_the_configured_rows() -> None:
    sizer = CallSizer(10_000)
    assert sizer.rows == 2_000
    sizer.answered(2_000, 1.0)  # 6 s is the target (40% of 15): ×4 at most per step
    assert sizer.rows == 8_000
    sizer.answered(8_000, 3.0)  # ×2 would be 16,000: capped at the configured 10,000
    assert sizer.rows == 10_000


def test_a_slow_answer_shrinks_the_next_calls_and_a_short_last_chunk_grows_nothing() -> None:
    sizer = CallSizer(10_000, SizingSettings(initial_rows=10_000))
    sizer.answered(10_000, 12.0)  # twice the target: half the rows
    assert sizer.rows == 5_000
    sizer.answered(300, 0.1)  # the tail of a load: not a measure of full calls
    assert sizer.rows == 5_000


def test_a_call_that_ran_into_the_limit_is_halved_and_told_from_a_dropped_one() -> None:
    sizer = CallSizer(10_000, SizingSettings(initial_rows=8_000))
    cut = TransientApiError("no answer", elapsed=14.9)
    dropped = TransientApiError("no answer", elapsed=0.2)  # a connection reset at once
    assert sizer.too_slow(cut) and not sizer.too_slow(dropped)
    assert sizer.too_slow(TransientApiError("timeout", status=408))
    assert not sizer.too_slow(TransientApiError("busy", status=503, elapsed=20.0))
    assert sizer.timed_out(8_000) == 4_000 and sizer.rows == 4_000
    assert sizer.timed_out(1) == 1 and sizer.rows == 1
