"""Hypothesis strategies for hostile warehouse rows: keys and values a real export holds.

A row has a key (`id`) and four mapped columns: `email` (text), `score` (integer), `born`
(date), `vip` (boolean), each drawn from values that fit, values that do not, and text that
breaks naive CSV or SQL handling (newlines, quotes, semicolons, emoji, NUL, 1 MB). Keys come
from a small pool so that duplicates are common, plus NULL, blank and whitespace keys.
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

COLUMNS = ("id", "email", "score", "born", "vip")
MEGABYTE = "x" * 1_000_000

NASTY = [
    "", " ", "a\nb", "a\r\nb", 'say "hi"', "'", '"', "a;b;c", "a,b", ";", "\\", "\\N", "NULL",
    "null", "NaN", "😀", "👨‍👩‍👧", "名前", "\u202e", "\ufeff", "'; DROP TABLE x; --", "%s", "{}",
    "../../etc/passwd", "=cmd|' /C calc'!A0", "nul\x00byte", "\x00",
]
KEYS = st.one_of(
    st.none(),
    st.sampled_from(["C1", "C2", "C3", "C4", "c1", " C1", "C1 ", "001", "1"]),
    st.sampled_from(["", " ", "   ", "\t", "\n"]),
    st.sampled_from(NASTY),
    st.text(min_size=1, max_size=6),
)
TEXTS = st.none() | st.sampled_from(NASTY) | st.text(max_size=20)
SCORES = st.none() | st.sampled_from(
    ["10", "-0", "11.5", "1e3", "abc", "99999999999999999999999", "NaN", "inf", " 7 ", "0x1F",
     "1,000", "١٢"]) | st.integers(-(2**70), 2**70).map(str) | TEXTS
DATES = st.none() | st.sampled_from(
    ["1990-01-02", "2026-02-30", "0000-00-00", "9999-12-31", "2026-13-01", "02/01/1990",
     "1990-01-02T10:00:00", "yesterday"]) | st.dates().map(str) | TEXTS
BOOLEANS = st.none() | st.sampled_from(
    ["true", "false", "TRUE", "t", "f", "1", "0", "yes", "no", "maybe", "Y"]) | TEXTS


@st.composite
def rows(draw: st.DrawFn, min_size: int = 8, max_size: int = 20) -> list[dict[str, Any]]:
    """Rows of one audience; one in a few has a 1 MB value in one of its columns."""
    found = draw(st.lists(st.fixed_dictionaries({
        "id": KEYS, "email": TEXTS, "score": SCORES, "born": DATES, "vip": BOOLEANS,
    }), min_size=min_size, max_size=max_size))
    if draw(st.integers(0, 4)) == 0:
        row = draw(st.sampled_from(found))
        row[draw(st.sampled_from(COLUMNS))] = draw(st.sampled_from([MEGABYTE, "é" * 500_000]))
    return found
