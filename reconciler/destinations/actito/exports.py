"""Which profiles exist, read from Actito's periodic full export of the profile table
([C] evidence §9): one CSV a day on a file transfer location, set up once as a draft through
the Exports API or the portal and activated in the portal. Reading it is one file download
instead of a page of the (undocumented, [I] §4) profile listing per thousand profiles, or a
(documented) lookup per key: the documented way to know a large table's keys, at most a day
stale.

Documented format [C] (exports/formats): CSV, UTF-8 without BOM, a header line, `;` between
values, `"` for quoting, zipped or gzipped or plain, the file named by a pattern with
`$yyyyMMdd` date placeholders. The newest file whose name matches the pattern is read; its
date, from its name, says how old it is, and an export older than `maxAge` is an error (a
plan from a stale index would take new profiles for absent ones).
"""
from __future__ import annotations

import csv
import gzip
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.destinations.actito.targeting import DATE_PLACEHOLDER, date_format
from reconciler.destinations.actito.transfer import FileTransferSettings, fetch_newest
from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.http import RetryPolicy

PAGE = 10_000
CALL = "profile export"


@dataclass(frozen=True)
class ProfileExport:
    file_pattern: str  # e.g. profiles_$yyyyMMdd.zip
    directory: str
    max_age: timedelta
    separator: str = ";"


def name_regex(pattern: str) -> re.Pattern[str]:
    """The file names `pattern` gives: each date placeholder as its digits."""
    out, position = [], 0
    for match in DATE_PLACEHOLDER.finditer(pattern):
        out.append(re.escape(pattern[position:match.start()]))
        out.append(rf"(\d{{{len(match.group(1))}}})")
        position = match.end()
    out.append(re.escape(pattern[position:]))
    return re.compile("^" + "".join(out) + "$")


def file_moment(pattern: str, name: str) -> datetime | None:
    """When the export named `name` was made, from the date in its name (UTC)."""
    match = name_regex(pattern).match(name)
    if match is None:
        return None
    text = "".join(match.groups())
    layout = "".join(date_format(p.group(1)) for p in DATE_PLACEHOLDER.finditer(pattern))
    try:
        return datetime.strptime(text, layout).replace(tzinfo=UTC)
    except ValueError:
        return None


def _lines(path: Path) -> Iterator[str]:
    """The CSV's text lines, from a zip (its first file), a gzip or a plain file."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"PK":
        with zipfile.ZipFile(path) as archive:
            inner = next((n for n in archive.namelist() if not n.endswith("/")), None)
            if inner is None:
                return
            with archive.open(inner) as raw:
                yield from io.TextIOWrapper(raw, encoding="utf-8", newline="")
    elif magic == b"\x1f\x8b":
        with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
            yield from text
    else:
        with path.open(encoding="utf-8", newline="") as text:
            yield from text


class ExportReader:
    """The newest export, downloaded once (the first time keys are asked) and read by every
    activation of the run on this table: one download per plan, whatever the number of
    activations. `close()` removes the local copy."""

    def __init__(self, export: ProfileExport, transfer: FileTransferSettings,
                 retry: RetryPolicy | None = None) -> None:
        self.export, self.transfer, self.retry = export, transfer, retry
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._file: tuple[str, Path] | None = None
        self.downloads = 0

    def _fetched(self, now: datetime) -> tuple[str, Path]:
        export = self.export
        if self._file is None:
            self._folder = tempfile.TemporaryDirectory(prefix="actito-export-")
            local = Path(self._folder.name) / "export"
            name = fetch_newest(self.transfer, export.directory,
                                name_regex(export.file_pattern), local, self.retry)
            self.downloads += 1
            if name is None:
                where = (f"{export.directory.rstrip('/')}/{export.file_pattern} on "
                         f"{self.transfer.host}")
                raise PermanentApiError(
                    f"no profile export matching {where}: activate the periodic full export "
                    "of the profile table in the Actito portal, or fix the destination's "
                    "profileExport", destination="actito", call=CALL)
            self._file = (name, local)
        name, local = self._file
        made = file_moment(export.file_pattern, name)
        if made is None or now - made > export.max_age:
            age = "of an unknown date" if made is None else f"from {made:%Y-%m-%d %H:%M} UTC"
            raise PermanentApiError(
                f"the newest profile export {name} is {age}, older than profileExport.maxAge "
                f"({export.max_age}): a plan from it could take new profiles for absent ones; "
                "check the export's schedule in the Actito portal", destination="actito",
                call=CALL)
        return name, local

    def keys(self, key_attribute: str, now: datetime) -> Iterator[list[str]]:
        """Pages of every profile's `key_attribute` value."""
        name, local = self._fetched(now)
        rows = csv.reader(_lines(local), delimiter=self.export.separator, quotechar='"')
        header = next(rows, None)
        if header is None or key_attribute not in header:
            raise PermanentApiError(
                f"the profile export {name} has no {key_attribute} column (its columns: "
                f"{', '.join(header or []) or 'none'}): add the attribute to the export in "
                "the Actito portal", destination="actito", call=CALL)
        column = header.index(key_attribute)
        page: list[str] = []
        for cells in rows:
            value = cells[column].strip() if column < len(cells) else ""
            if value:
                page.append(value)
            if len(page) >= PAGE:
                yield page
                page = []
        if page:
            yield page

    @property
    def file_read(self) -> tuple[str, datetime | None] | None:
        """The export file read (its name, and when it was made by its name), if one was."""
        if self._file is None:
            return None
        return self._file[0], file_moment(self.export.file_pattern, self._file[0])

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
        self._folder, self._file = None, None
