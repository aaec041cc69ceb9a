"""Periodic full exports of the profile table ([C] evidence §9): once a day, a CSV of the
table's profiles dropped on a file transfer location, in the documented format (UTF-8 without
BOM, a header line, `;` between values, `"` quoting, zipped), named by a pattern with date
placeholders. Set up in the portal file (`exports`); made here when the sandbox starts and
whenever the day (on the sandbox's clock) has no file yet, from the profiles as they are then:
like the real one, an export can be up to a day stale.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from reconciler.clock import Clock
from reconciler.sandbox.actito.store import Store
from reconciler.sandbox.actito.targetlists import PLACEHOLDER, TargetListSync

STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def read_exports(portal_file: Path | None) -> list[dict[str, Any]]:
    """The `exports` of a portal file (none without one)."""
    if portal_file is None:
        return []
    return list(json.loads(portal_file.read_text(encoding="utf-8")).get("exports", []))


class ProfileExports:
    def __init__(self, store: Store, syncer: TargetListSync, clock: Clock,
                 setups: list[dict[str, Any]]) -> None:
        self.store, self.syncer, self.clock, self.setups = store, syncer, clock, setups

    def file_name(self, pattern: str) -> str:
        moment = self.clock.now()

        def resolve(match: Any) -> str:
            letters = match.group(1)
            for run, code in STRFTIME.items():
                letters = letters.replace(run, code)
            return str(moment.strftime(letters))

        return PLACEHOLDER.sub(resolve, pattern)

    def run_due(self) -> None:
        """Write each export whose file for today is missing."""
        for setup in self.setups:
            with self.store.lock:
                location = next((r for r in self.store.locations.values()
                                 if r["name"] == setup["location"]), None)
                if location is None or "protocol" not in location:
                    continue
                folder = self.syncer.location_dir(location)
                directory = str(setup.get("directory") or "/").strip("/")
                folder = folder / directory if directory else folder
                target = folder / self.file_name(setup["fileNamePattern"])
                if target.exists():
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                temporary = folder / f".{target.name}.part"
                temporary.write_bytes(self._zip(setup))
                temporary.replace(target)

    def _zip(self, setup: dict[str, Any]) -> bytes:
        entity = self.store.entity(setup.get("entity", "")) or next(
            iter(self.store.entities.values()))
        table = entity.table(setup.get("table", "Profiles"))
        assert table is not None
        columns = list(setup["attributes"])
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";", quotechar='"', lineterminator="\n")
        writer.writerow(columns)
        for pid, values in table.profiles.items():
            row = {**values, "profileId": pid}
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(setup.get("innerFileName", "profiles.csv"),
                             text.getvalue().encode("utf-8"))
        return buffer.getvalue()
