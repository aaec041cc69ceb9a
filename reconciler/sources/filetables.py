"""Tables read from CSV and Parquet files, with the column types a Source declares.

Owns how a `files` entry becomes the SQL of a typed table, and the rows that had to be left
out. A CSV column is never typed by a guess from a sample: a declared column is read as text
and converted to its type, and a row with a value that does not fit is left out of the table
and reported (a bad row); every other column gets the type DuckDB's sniffer finds over the
whole file, decided once when the source opens, so all reads of one plan see the same types
and a value past a sample can neither fail a read halfway nor turn a number column into text
silently (a segment comparing that text column with a number is then an error, see
`manifests/literals.py`). Parquet files carry their types; declared columns are converted the
same way. Values in reports are masked. Only builds SQL and runs it on the connection given.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reconciler.manifests.models import FieldType
from reconciler.masking import mask_value
from reconciler.sources.base import BadRows
from reconciler.sources.conversion import converted_to, fits_type
from reconciler.sources.dialects import DUCKDB
from reconciler.sources.errors import SourceConnectionError

_CSV, _PARQUET = "read_csv", "read_parquet"
READERS = {".parquet": _PARQUET, ".csv": _CSV, ".tsv": _CSV, ".txt": _CSV, ".gz": _CSV}


@dataclass(frozen=True)
class FileReading:
    """The SQL of one file table: its typed rows, and its rows with an unfit value."""

    table: str
    rows: str
    """`SELECT …` of the table's rows that fit every declared type, converted."""
    bad: str | None
    """`SELECT …` of the other rows (the unfit values as text, NULL where a value fits), or
    None when no column is declared."""
    declared: Mapping[str, FieldType]
    """Declared types by the file's own spelling of each column."""
    columns: tuple[str, ...] = ()
    """Every column of the file, as it spells them."""
    raw: str = ""
    """The table function reading the file, before any conversion."""
    fit: str = "TRUE"
    """The condition true for a row whose declared values all fit."""

    def bad_values_of(self, column: str) -> str | None:
        """`SELECT` of `column` (converted as the table does, as text) in the rows left out;
        None when nothing is left out or the file has no such column."""
        spelled = next((c for c in self.columns if c.casefold() == column.casefold()), None)
        if self.bad is None or spelled is None:
            return None
        name = DUCKDB.quote(spelled)
        kind = self.declared.get(spelled)
        value = converted_to(kind, name) if kind is not None else name
        return (f"SELECT CAST({value} AS VARCHAR) AS value FROM {self.raw} "
                f"WHERE NOT ({self.fit})")


def read_file_table(conn: duckdb.DuckDBPyConnection, source: str, table: str, path: Path,
                    declared: Mapping[str, FieldType]) -> FileReading:
    """The SQL reading `path` as table `table`, its declared columns typed (files are
    checked and, for a single CSV file, sniffed once now)."""
    reader = READERS.get(path.suffix.lower())
    where = f"source {source!r}, table {table!r}"
    if reader is None:
        raise SourceConnectionError(f"{where}: {path.name} is neither CSV nor Parquet "
                                    f"(expected one of {', '.join(sorted(READERS))})")
    literal = DUCKDB.quote_literal(str(path.absolute()))
    try:
        raw = (f"{_PARQUET}({literal})" if reader == _PARQUET
               else _csv_reader(conn, literal, path, declared))
        found = [row[0] for row in conn.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()]
    except duckdb.Error as exc:
        raise SourceConnectionError(f"{where}: cannot read {path}: {exc}") from exc
    spelled = _spelled(where, path, declared, found)
    if not spelled:
        return FileReading(table, f"SELECT * FROM {raw}", None, {}, tuple(found), raw)
    q = DUCKDB.quote
    fit = " AND ".join(fits_type(kind, q(name)) for name, kind in spelled.items())
    typed = ", ".join(f"{converted_to(kind, q(name))} AS {q(name)}"
                      for name, kind in spelled.items())
    unfit = ", ".join(f"CASE WHEN NOT {fits_type(kind, q(name))} THEN CAST({q(name)} AS "
                      f"VARCHAR) END AS {q(name)}" for name, kind in spelled.items())
    return FileReading(table, f"SELECT * REPLACE ({typed}) FROM {raw} WHERE {fit}",
                       f"SELECT {unfit} FROM {raw} WHERE NOT ({fit})", spelled, tuple(found),
                       raw, fit)


def count_bad_rows(conn: duckdb.DuckDBPyConnection, reading: FileReading,
                   samples: int) -> tuple[BadRows, ...]:
    """Per declared column, the rows left out for its unfit values, with masked samples."""
    if reading.bad is None:
        return ()
    q = DUCKDB.quote
    names = list(reading.declared)
    counts = conn.execute(f"SELECT {', '.join(f'count({q(n)})' for n in names)} "
                          f"FROM ({reading.bad})").fetchall()[0]
    found = []
    for name, rows in zip(names, counts, strict=True):
        if not rows:
            continue
        shown = conn.execute(f"SELECT DISTINCT {q(name)} FROM ({reading.bad}) WHERE {q(name)} "
                             f"IS NOT NULL ORDER BY 1 LIMIT {max(0, samples)}").fetchall()
        found.append(BadRows(reading.table, name, reading.declared[name].value, int(rows),
                             tuple(mask_value(r[0]) for r in shown)))
    return tuple(found)


def _csv_reader(conn: duckdb.DuckDBPyConnection, literal: str, path: Path,
                declared: Mapping[str, FieldType]) -> str:
    """`read_csv(…)` with every column's type pinned: declared ones as text (converted by the
    caller), the others as the sniffer finds them over the whole file. The dialect the sniffer
    found is pinned too (`auto_detect=false`): each later read of the file then skips the
    sniffing a plain `read_csv` does on every bind (5,000 rows: 17 ms → 1 ms a read)."""
    if any(c in str(path) for c in "*?["):  # sniff_csv reads one file: sniff every read
        text = {name: "VARCHAR" for name in declared}
        return f"{_CSV}({literal}, sample_size=-1{_types(text)})"
    cursor = conn.execute(f"SELECT * FROM sniff_csv({literal}, sample_size=-1)")
    found = dict(zip([d[0] for d in cursor.description], cursor.fetchall()[0], strict=True))
    folded = {name.casefold() for name in declared}
    types = {c["name"]: "VARCHAR" if c["name"].casefold() in folded else c["type"]
             for c in found["Columns"]}
    formats = "".join(f", {option}={DUCKDB.quote_literal(value)}"
                      for option, value in (("dateformat", found.get("DateFormat")),
                                            ("timestampformat", found.get("TimestampFormat")))
                      if value)
    pinned = _pinned_dialect(found, types)
    if pinned:
        reader = f"{_CSV}({literal}, {pinned}{formats})"
        try:  # a dialect DuckDB cannot take back as options: sniff on each read, as before
            described = conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
            if [row[0] for row in described] == list(types):
                return reader
        except duckdb.Error:
            pass
    return f"{_CSV}({literal}{_types(types)}{formats})"


def _pinned_dialect(found: Mapping[str, object], types: Mapping[str, str]) -> str:
    """The `read_csv` options of the dialect sniff_csv found, auto-detection off; "" when
    its answer lacks a part (another DuckDB version)."""
    def char(name: str) -> str | None:
        value = found.get(name)
        if not isinstance(value, str):
            return None
        return "" if value == "(empty)" else value  # how sniff_csv shows no character

    parts = {option: char(name) for option, name in (
        ("delim", "Delimiter"), ("quote", "Quote"), ("escape", "Escape"),
        ("new_line", "NewLineDelimiter"))}
    skip, header = found.get("SkipRows"), found.get("HasHeader")
    if any(v is None for v in parts.values()) or not isinstance(skip, int) \
            or not isinstance(header, bool) or not types:
        return ""
    comment = char("Comment")
    options = "".join(f", {option}={DUCKDB.quote_literal(value)}"
                      for option, value in {**parts, "comment": comment}.items()
                      if value is not None)
    columns = ", ".join(f"{DUCKDB.quote_literal(name)}: {DUCKDB.quote_literal(kind)}"
                        for name, kind in types.items())
    return (f"auto_detect=false{options}, skip={skip}, header={str(header).lower()}, "
            f"columns={{{columns}}}")


def _types(types: Mapping[str, str]) -> str:
    if not types:
        return ""
    pairs = ", ".join(f"{DUCKDB.quote_literal(name)}: {DUCKDB.quote_literal(kind)}"
                      for name, kind in types.items())
    return f", types={{{pairs}}}"


def _spelled(where: str, path: Path, declared: Mapping[str, FieldType],
             found: list[str]) -> dict[str, FieldType]:
    """The declared types by the file's spelling of each column (DuckDB ignores case);
    a declared column the file lacks is an error."""
    by_fold = {name.casefold(): name for name in found}
    missing = [name for name in declared if name.casefold() not in by_fold]
    if missing:
        raise SourceConnectionError(
            f"{where}: {path.name} has no column {missing[0]!r} (declared in `columns`; its "
            f"columns: {', '.join(found)})")
    return {by_fold[name.casefold()]: kind for name, kind in declared.items()}
