"""Seed data shared by both sandboxes: a customers CSV (by default the example project's), minus
a few.

A deterministic ~5% of the customers is left out of every destination, so match rates in the
demo and tests are realistic (some users of a segment do not exist at the destination).

The sandboxes read the fields of `SEED_FIELDS`, each from the CSV column of the same name unless
a mapping (`reconciler sandbox --seed-column FIELD=COLUMN`) names another; other columns are
ignored. A file that cannot be read that way is a `SeedFileError` naming the file and line.
"""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.errors import ReconcilerError

LEFT_OUT_PERCENT = 5
# field → what the sandboxes make of it (the README's "Seed file" lists the same).
SEED_FIELDS: dict[str, str] = {
    "customer_id": "the customer id (required): Selligent's key field, Actito's customerId",
    "email": "Selligent MAIL, Actito emailAddress",
    "phone": "Selligent MOBILE, Actito gsmNumber",
    "first_name": "Selligent FIRSTNAME, Actito firstName",
    "last_name": "Selligent NAME, Actito lastName",
    "country": "Selligent COUNTRY, Actito country",
    "lifetime_value": "a number: Actito lifetimeValue",
    "last_order_date": "a date: Actito lastOrderDate",
    "email_consent": "true or false: Selligent OPTOUT (0 when true), Actito emailConsent",
    "created_at": "a date: Selligent CREATED_DT",
}
REQUIRED_FIELDS = ("customer_id",)
HINT = ("see the README's 'Seed file' for the columns; `--seed-column FIELD=COLUMN` reads a "
        "field from a column of another name")


class SeedFileError(ReconcilerError):
    """The seed file cannot be read: missing, not UTF-8 CSV, or without a required column."""

    hint = HINT


def is_left_out(customer_id: str) -> bool:
    """True for the customers the sandboxes do not know (stable across runs and machines)."""
    digest = hashlib.sha256(customer_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < LEFT_OUT_PERCENT


def unknown_fields(columns: Mapping[str, str]) -> list[str]:
    """The fields of a column mapping that the sandboxes do not read (a typo, most likely)."""
    return [name for name in columns if name not in SEED_FIELDS]


def check_seed_file(path: Path, columns: Mapping[str, str] | None = None) -> None:
    """Raise `SeedFileError` unless `path` is a readable CSV (or Parquet file) whose header
    has the columns the fields need (before any sandbox starts: rows are checked as they
    are read)."""
    if path.suffix.lower() == ".parquet":
        _parquet_positions(path, columns or {})
        return
    with _open(path) as handle:
        _header(path, csv.reader(_lines(path, handle)), columns or {})


def _parquet_positions(path: Path, columns: Mapping[str, str]) -> dict[str, int]:
    """As `_header`, from a Parquet file's schema."""
    _open(path).close()  # a missing or unreadable file, said as for a CSV
    try:
        names = pq.ParquetFile(path).schema_arrow.names
    except (pa.ArrowException, OSError) as exc:
        raise SeedFileError(f"{path}: not a Parquet file ({exc})",
                            hint="give a CSV or Parquet file to --seed-file") from exc
    return _header(path, iter([names]), columns)


def _parquet_customers(path: Path, columns: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """A Parquet seed file's rows as CSV cells (text; NULL as empty), in batches: seeding a
    large sandbox from Parquet skips CSV parsing."""
    positions = _parquet_positions(path, columns)
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    wanted = sorted(set(positions.values()))
    where = {index: place for place, index in enumerate(wanted)}
    line = 1  # as a CSV's line numbers: the header is line 1
    for batch in parquet.iter_batches(batch_size=65_536, columns=[names[i] for i in wanted]):
        texts = [pc.cast(column, pa.string()).to_pylist() for column in batch.columns]
        for row_cells in zip(*texts, strict=True):
            line += 1
            cells = [""] * len(names)
            for index, place in where.items():
                cells[index] = row_cells[place] or ""
            row = _row(path, line, cells, positions, columns)
            if row is not None and not is_left_out(row["customer_id"]):
                yield row


def read_seed_customers(path: Path,
                        columns: Mapping[str, str] | None = None) -> Iterator[dict[str, str]]:
    """The seed file's customers as {field: value}, without the left-out customers.

    `columns` maps fields to the CSV's column names (default: the field's own name); the fields
    whose column the file lacks are absent from the rows. A `.parquet` file is read as one."""
    if path.suffix.lower() == ".parquet":
        yield from _parquet_customers(path, columns or {})
        return
    with _open(path) as handle:
        reader = csv.reader(_lines(path, handle))
        positions = _header(path, reader, columns or {})
        try:
            for cells in reader:
                row = _row(path, reader.line_num, cells, positions, columns or {})
                if row is not None and not is_left_out(row["customer_id"]):
                    yield row
        except csv.Error as exc:
            raise SeedFileError(f"{path}, line {reader.line_num}: not a CSV file ({exc})",
                                hint="save it as CSV (comma-separated, UTF-8)") from exc


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise SeedFileError(f"seed file {path} not found",
                            hint="give an existing CSV file to --seed-file, or leave the "
                            "option out to seed the example customers") from exc
    except OSError as exc:  # a folder, no permission
        raise SeedFileError(f"seed file {path} cannot be read: {exc.strerror}",
                            hint="give a CSV file to --seed-file") from exc


def _lines(path: Path, handle: BinaryIO) -> Iterator[str]:
    """The file's lines as text; decoded one by one so an error names its line."""
    for number, raw in enumerate(handle, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SeedFileError(
                f"{path}, line {number}: not UTF-8 text (byte {exc.start + 1} of the line)",
                hint="save it as CSV UTF-8 (spreadsheets: 'CSV UTF-8' format)") from exc
        if "\x00" in text:  # UTF-16 or binary: valid UTF-8 bytes, but no CSV
            raise SeedFileError(f"{path}, line {number}: a NUL character, so not a text file",
                                hint="save it as CSV UTF-8 (not UTF-16 or a spreadsheet)")
        yield text.removeprefix("\ufeff") if number == 1 else text  # a spreadsheet's BOM


def _header(path: Path, reader: Iterator[list[str]],
            columns: Mapping[str, str]) -> dict[str, int]:
    """field → its cell's position in each row; raises when a needed column is missing."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise SeedFileError(f"{path}, line 1: not a CSV header ({exc})",
                            hint="save it as CSV (comma-separated, UTF-8)") from exc
    if not header or not any(cell.strip() for cell in header):
        raise SeedFileError(f"{path}, line 1: no header line (the file is empty or starts "
                            "with a blank line)", hint="the first line names the columns, "
                            "e.g. customer_id,email,phone")
    where = {cell.strip(): index for index, cell in reversed(list(enumerate(header)))}
    positions: dict[str, int] = {}
    for name in SEED_FIELDS:
        column = columns.get(name, name)
        if column in where:
            positions[name] = where[column]
        elif name in columns or name in REQUIRED_FIELDS:
            mapped = f" (mapped by --seed-column {name}={column})" if name in columns else ""
            shown = ", ".join(cell.strip() for cell in header[:15])
            raise SeedFileError(
                f"{path}, line 1: no column {column!r} for the field {name}{mapped}; the "
                f"header has: {shown}{', …' if len(header) > 15 else ''}",
                hint=f"name a column of the file {name}, or say which one holds it: "
                f"`--seed-column {name}=COLUMN`")
    return positions


def _row(path: Path, line: int, cells: list[str], positions: Mapping[str, int],
         columns: Mapping[str, str]) -> dict[str, str] | None:
    """One CSV record as {field: value}; None for a blank line."""
    if not any(cell.strip() for cell in cells):
        return None
    row = {name: cells[index] for name, index in positions.items() if index < len(cells)}

    def fail(name: str, problem: str, hint: str) -> SeedFileError:
        return SeedFileError(f"{path}, line {line}, column {columns.get(name, name)!r}: "
                             f"{problem}", hint=hint)

    if not row.get("customer_id", "").strip():
        raise fail("customer_id", "empty customer id",
                   "give every row a customer id, or delete the row")
    if row.get("lifetime_value"):
        try:
            float(row["lifetime_value"])
        except ValueError:
            raise fail("lifetime_value", f"{row['lifetime_value']!r} is not a number",
                       "write numbers with a dot for decimals (1234.5), or leave the cell "
                       "empty") from None
    if row.get("email_consent"):
        consent = row["email_consent"].lower()
        if consent not in ("true", "false"):
            raise fail("email_consent", f"{row['email_consent']!r} is not true or false",
                       "write true or false, or leave the cell empty")
        row["email_consent"] = consent  # both sandboxes compare with "true"
    return row
