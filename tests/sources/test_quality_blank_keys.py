"""A key of spaces, tabs or line breaks only is no key: a NULL-key bad row, never a member."""
from __future__ import annotations

import duckdb

from reconciler.sources.duplicates import BLANKS


def test_whitespace_only_keys_are_blank() -> None:
    values = [" ", "\t", "\n", "\r\n \t", "C1", " C1 "]
    conn = duckdb.connect()
    blank = [conn.execute(f"SELECT trim(?, {BLANKS}) = ''", [v]).fetchall()[0][0]
             for v in values]
    assert blank == [True, True, True, True, False, False]
