"""The program's one clock and `--now`."""
from __future__ import annotations

import datetime as dt

import pytest

from reconciler.clock import SYSTEM_CLOCK, FixedClock, InvalidNowError, clock_from
from reconciler.errors import ReconcilerError


def test_no_now_is_the_system_clock() -> None:
    # Scenario: without --now a command runs on the machine's clock, in UTC.
    assert clock_from(None) is SYSTEM_CLOCK
    assert SYSTEM_CLOCK.now().tzinfo is dt.UTC


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-01T09:30:00+00:00", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)),
    ("2026-11-01T09:30:00Z", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)),
    ("2026-11-01T09:30:00", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)),  # naive: UTC
    ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
    ("2026-11-01T10:30:00+01:00", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)),
])
def test_now_pins_the_clock(text: str, expected: dt.datetime) -> None:
    # Scenario: --now in the forms people type gives a stopped, timezone-aware clock.
    clock = clock_from(text)
    assert clock.now() == expected and clock.now().tzinfo is not None
    assert clock.now() == clock.now()


def test_a_bad_now_is_a_user_error_naming_the_option() -> None:
    # Scenario: --now that is not ISO 8601 is refused with an example, as a user error.
    with pytest.raises(InvalidNowError, match=r"--now 'next tuesday' is not an ISO 8601") as err:
        clock_from("next tuesday")
    assert isinstance(err.value, ReconcilerError)


def test_a_fixed_clock_made_naive_is_utc() -> None:
    # Scenario: code building a FixedClock from a naive moment still gets an aware one.
    assert FixedClock(dt.datetime(2026, 1, 2, 3)).now().tzinfo is dt.UTC
