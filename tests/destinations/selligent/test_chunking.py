"""Rows as Selligent takes them: cell text and the JSON size each row adds to a body."""
from __future__ import annotations

import json

import pytest

from reconciler.destinations.selligent.chunking import chunk_rows, row_bytes


@pytest.mark.parametrize("row", [
    [], [""], ["C000001"], ["C000001", "Dupont"], ["a,b", "[x]", "{y: 1}"],
    ['say "hi"'], ["back\\slash"], ["tab\there"], ["new\nline", "\x00"], ["Zoë", "€5"],
    ["C1", ""],
])
def test_row_bytes_is_the_rows_json_size_with_its_comma(row: list[str]) -> None:
    # Scenario: plain text (the fast path) and text JSON escapes or encodes on several bytes.
    body = json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert row_bytes(row) == len(body) + 1


def test_chunks_fill_up_to_the_byte_limit_and_no_further() -> None:
    # Scenario: rows of plain and escaped text: each chunk's body fits, the next row would not.
    rows = [[f"C{i:04d}", 'quote " and é' if i % 3 else "plain"] for i in range(500)]
    chunks = list(chunk_rows(rows, max_rows=10_000, max_bytes=2_000))
    sizes = [len(json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode()) for c in chunks]
    assert all(size <= 2_000 for size in sizes)
    assert all(size + row_bytes(nxt[0]) > 2_000 for size, nxt in zip(sizes, chunks[1:],
                                                                     strict=False))
    assert [r for c in chunks for r in c] == rows
