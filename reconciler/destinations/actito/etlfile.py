"""Writing files Actito imports (§2.7, [C]): RFC 4180 CSV, header first, UTF-8 without BOM,
the documented value formats, zipped, and split so that no file passes the size cap. One zip
may hold several CSVs (sections), each with its own header: Actito reads every CSV of a zip in
one import, which is how several activations share one ETL execution.

Rows stream through: nothing here holds more than one row and one open zip at a time.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    """One zip file being written, holding one CSV per section (an import reads them all)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = path.open("wb")
        self.archive = zipfile.ZipFile(self.raw, "w", compression=zipfile.ZIP_DEFLATED)
        self.text: io.TextIOWrapper | None = None
        self.writer: Any = None
        self.rows = 0  # data rows of every section in this part
        self.written = 0

    def begin(self, name: str, header: Sequence[str]) -> None:
        """Start the CSV entry `name` with its header line."""
        if self.text is not None:
            self.text.close()
        stream = self.archive.open(name, "w", force_zip64=True)
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.writer.writerow(header)
        self.written += _size(header)

    def write(self, cells: Sequence[str]) -> None:
        self.writer.writerow(cells)
        self.rows += 1
        self.written += _size(cells)

    def estimate(self) -> int:
        """An upper bound of the finished zip's size."""
        return self.raw.tell() + min(self.written, DEFLATE_SLACK) + ZIP_OVERHEAD

    def close(self) -> Path:
        if self.text is not None:
            self.text.close()
        self.archive.close()
        self.raw.close()
        return self.path


def _size(cells: Sequence[str]) -> int:
    return sum(len(c.encode("utf-8")) + 3 for c in cells) + 2


@dataclass(frozen=True)
class Section:
    """One CSV of an import file: its entry name, header and rows (streamed once)."""

    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def write_zipped_sections(folder: Path, stem: str, sections: Sequence[Section],
                          max_bytes: int) -> list[Path]:
    """Zips holding one CSV per section, each zip under `max_bytes`: a section that does not
    fit goes on in the next zip under the same header. An empty section is a header-only CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    part = _Part(folder / f"{stem}-1.zip")
    for section in sections:
        part.begin(section.name, section.header)
        for row in section.rows:
            cells = [format_value(v) for v in row]
            if part.rows and part.estimate() + _size(cells) > max_bytes:
                parts.append(part.close())
                part = _Part(folder / f"{stem}-{len(parts) + 1}.zip")
                part.begin(section.name, section.header)
            part.write(cells)
    parts.append(part.close())
    return parts


def write_zipped_csv(folder: Path, stem: str, header: Sequence[str],
                     rows: Iterable[Sequence[Any]], max_bytes: int) -> list[Path]:
    """Zips of `header` + `rows`, each under `max_bytes`; an empty `rows` gives one header-only
    file (an empty target list is a real state)."""
    return write_zipped_sections(folder, stem, [Section("data.csv", header, rows)], max_bytes)
