"""Reading an ETL or target-list data file as Actito does (§2.7, [C]): ZIP (several CSVs), GZIP
or plain; RFC 4180 CSV whose first line is the header; UTF-8 or ISO-8859-1; a BOM is refused.
The file's name and extension play no part. Pure functions over bytes, no I/O.
"""
from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
ENCODINGS = {"UTF-8": "utf-8", "ISO-8859-1": "iso-8859-1"}


class FileRefused(ValueError):
    """The whole file is refused (the execution ends in ERROR)."""


@dataclass
class CsvFile:
    header: list[str]
    lines: list[tuple[int, list[str]]]  # (line number, cells); the header is line 1


def unpack(data: bytes) -> list[bytes]:
    """The CSV payloads inside `data`, recognised by content, not by name."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                return [archive.read(n) for n in names]
        except zipfile.BadZipFile as exc:
            raise FileRefused(f"corrupt ZIP file: {exc}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            return [gzip.decompress(data)]
        except (OSError, EOFError) as exc:
            raise FileRefused(f"corrupt GZIP file: {exc}") from None
    return [data]


def _records(text: str, separator: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the physical line each starts on (quoted newlines span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"malformed CSV near line {reader.line_num}: {exc}") from None


def read_csv(payload: bytes, *, encoding: str = "UTF-8", separator: str = ",") -> CsvFile:
    """Parse one CSV payload; refuse a BOM, a bad encoding, a missing or repeated header."""
    if payload.startswith(BOM):
        raise FileRefused("the file starts with a byte order mark (BOM), which is not accepted")
    codec = ENCODINGS.get(encoding.upper())
    if codec is None:
        raise FileRefused(f"unsupported encoding {encoding}")
    try:
        text = payload.decode(codec)
    except UnicodeDecodeError as exc:
        raise FileRefused(f"the file is not valid {encoding}: {exc.reason}") from None
    records = _records(text, separator)
    first = next(records, None)
    if first is None or not any(cell.strip() for cell in first[1]):
        raise FileRefused("the first line must hold the column headers")
    header = [cell.strip() for cell in first[1]]
    if len(set(header)) != len(header):
        raise FileRefused("the header repeats a column name")
    lines = [(number, cells) for number, cells in records if cells != []]
    return CsvFile(header, lines)
