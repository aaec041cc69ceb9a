"""Masking of personal data: samples keep a value's shape, never the value."""
from __future__ import annotations

import datetime as dt

import pytest

from reconciler.masking import mask_email, mask_in_text, mask_phone, mask_value

CASES = [
    ("email keeps first letter and domain", "john.doe@example.com", "j***@example.com"),
    ("phone keeps prefix and last two", "+32472507455", "+32*******55"),
    ("local phone", "0472 50 74 55", "0*******55"),
    ("key keeps its ends", "C000123", "C*****3"),
    ("short text fully hidden", "BE", "***"),
    ("number", 1232.64, "1*****4"),
    ("date", dt.date(1990, 5, 17), "1********7"),
    ("null", None, "null"),
]


@pytest.mark.parametrize(("name", "raw", "masked"), CASES, ids=[c[0] for c in CASES])
def test_mask_value(name: str, raw: object, masked: str) -> None:
    # Scenario: each kind of value is masked to its documented shape.
    assert mask_value(raw) == masked
    if raw is not None and len(str(raw)) > 4:
        assert str(raw) not in mask_value(raw)


def test_odd_inputs_never_come_back_raw() -> None:
    # Scenario: malformed emails and very short phones still hide their content.
    assert mask_email("not-an-email") == "n**********l"
    assert mask_phone("+3212") == "+****"


TEXT_CASES = [
    ("a reason without data stays", "no profile matches (update only)",
     "no profile matches (update only)"),
    ("a quoted key", "no profile with customerId 'C000123'",
     "no profile with customerId 'C*****3'"),
    ("an e-mail anywhere", "duplicate john.doe@example.com here",
     "duplicate j***@example.com here"),
    ("a phone and a date", "+32472507455 on 2026-01-31", "+32*******55 on 2*****31"),
    ("small numbers stay", "line 3: 4 columns, not 255", "line 3: 4 columns, not 255"),
]


@pytest.mark.parametrize(("name", "raw", "masked"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_mask_in_text(name: str, raw: str, masked: str) -> None:
    # Scenario: a remote system's sentence keeps its words, loses the values it quotes.
    assert mask_in_text(raw) == masked


@pytest.mark.parametrize("raw", ["x" * 1_000_000, "a@" + "b" * 500_000, "+32" + "4" * 100_000])
def test_a_huge_value_is_shortened_with_its_length(raw: str) -> None:
    # Scenario (found by tests/fuzz): a 1 MB warehouse value made a 1 MB masked sample in the
    # plan; a value past 64 characters keeps its ends and says its length instead.
    masked = mask_value(raw)
    assert masked == f"{raw[0]}********…********{raw[-1]} ({len(raw):,} characters)"
