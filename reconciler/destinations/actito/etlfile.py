"""Writing files Actito imports (evidence §6, [C]): RFC 4180 CSV, header first, UTF-8 without
BOM, the documented value formats, zipped, and split so that no file passes the size cap. Each
zip holds exactly **one** CSV ([C] "For each target table, provide one CSV file"); a CSV that
would pass the cap goes on in the next zip under the same header.

Rows stream through: nothing here holds more than one row and one open zip at a time.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

# Deflate keeps some input back before writing it out; a part is closed while the bytes on disk
# plus this much (bounded by what was written) still fit the cap.
DEFLATE_SLACK = 256 * 1024
ZIP_OVERHEAD = 1024


def format_value(value: Any) -> str:
    """A value as Actito reads it: TRUE/FALSE, '.' decimals, yyyy-MM-dd, yyyy-MM-dd HH:mm:ss."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        text = format(Decimal(str(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Part:
    """One zip file being written, holding one CSV."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self.raw = path.open("wb")
        self.archive = zipfile.ZipFile(self.raw, "w", compression=zipfile.ZIP_DEFLATED)
        stream = self.archive.open("data.csv", "w", force_zip64=True)
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.writer.writerow(header)
        self.rows = 0
        self.written = _size(header)

    def write(self, cells: Sequence[str]) -> None:
        self.writer.writerow(cells)
        self.rows += 1
        self.written += _size(cells)

    def estimate(self) -> int:
        """An upper bound of the finished zip's size."""
        return self.raw.tell() + min(self.written, DEFLATE_SLACK) + ZIP_OVERHEAD

    def close(self) -> Path:
        self.text.close()
        self.archive.close()
        self.raw.close()
        return self.path


def _size(cells: Sequence[str]) -> int:
    return sum(len(c.encode("utf-8")) + 3 for c in cells) + 2


def write_zipped_csv(folder: Path, stem: str, header: Sequence[str],
                     rows: Iterable[Sequence[Any]], max_bytes: int) -> list[Path]:
    """Zips of one CSV each, `header` + `rows`, each zip under `max_bytes` (`stem-1.zip`,
    `stem-2.zip`, …); an empty `rows` gives one header-only file (an empty target list is a
    real state)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    part = _Part(folder / f"{stem}-1.zip", header)
    for row in rows:
        cells = [format_value(v) for v in row]
        if part.rows and part.estimate() + _size(cells) > max_bytes:
            parts.append(part.close())
            part = _Part(folder / f"{stem}-{len(parts) + 1}.zip", header)
        part.write(cells)
    parts.append(part.close())
    return parts
