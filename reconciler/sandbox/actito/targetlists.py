"""File transfer locations, file synchronizations and external target lists (§2.8).

The concept is [C]: a file dropped on a location replaces the list's members, and a list whose
validity period has elapsed targets nobody until a new file arrives. Every route, body and the
file format are [I] (inferred.py). `TargetListSync.scan()` is what "Actito retrieves files as
soon as they are detected" means here: called after each upload and by a polling thread.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reconciler.clock import Clock
from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.datafile import FileRefused, read_csv, unpack
from reconciler.sandbox.actito.routing import bad_request, now_text
from reconciler.sandbox.actito.store import Store

PLACEHOLDER = re.compile(r"\$([yMdHms]+)")  # $yyyyMMdd, $HHmmss, … ([C] §2.7)
REPORTED_LINES = 20


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """`export_$yyyyMMdd.csv` → a regex where each date placeholder matches its digits."""
    out, position = [], 0
    for match in PLACEHOLDER.finditer(pattern):
        out.append(re.escape(pattern[position:match.start()]))
        out.append(rf"\d{{{len(match.group(1))}}}")
        position = match.end()
    out.append(re.escape(pattern[position:]))
    return re.compile("^" + "".join(out) + "$")


def validity_seconds(period: Any) -> float:
    if not isinstance(period, dict) or period.get("unit") not in inferred.VALIDITY_UNITS:
        raise bad_request(f"validityPeriod must be {{value, unit}} with unit one of "
                          f"{', '.join(inferred.VALIDITY_UNITS)}")
    value = period.get("value")
    if not isinstance(value, int | float) or value <= 0:
        raise bad_request("validityPeriod.value must be a positive number")
    return float(value) * inferred.VALIDITY_UNITS[period["unit"]]


def list_view(record: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """The list as the API shows it: no member ids, but whether it targets anyone now."""
    view = {k: v for k, v in record.items() if k not in ("memberIds", "lastSignature")}
    retrieved = record.get("lastRetrievedEpoch")
    now = clock.now().timestamp()
    expired = retrieved is not None and now > retrieved + record["validitySeconds"]
    view["status"] = "WAITING_FOR_FILE" if retrieved is None else (
        "EXPIRED" if expired else "ACTIVE")
    view["memberCount"] = len(record["memberIds"]) if view["status"] == "ACTIVE" else 0
    return view


class TargetListSync:
    """Applies files found on the locations to the lists whose synchronization points there."""

    def __init__(self, store: Store, transfer_root: Path, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.transfer_root = transfer_root

    def location_dir(self, location: dict[str, Any]) -> Path:
        directory = str(location.get("directory") or "/").strip("/")
        base = self.transfer_root / location["protocol"].lower() / location["username"]
        return base / directory if directory else base

    def scan(self) -> None:
        with self.store.lock:
            for record in self.store.target_lists.values():
                self._scan_list(record)

    def _scan_list(self, record: dict[str, Any]) -> None:
        sync = self.store.synchronizations.get(record["fileSynchronizationId"])
        location = self.store.locations.get(str(sync["locationId"])) if sync else None
        if sync is None or location is None:
            return
        folder = self.location_dir(location)
        regex = pattern_regex(sync["fileNamePattern"])
        candidates = [p for p in folder.glob("*") if p.is_file() and regex.match(p.name)]
        if not candidates:
            return
        newest = max(candidates, key=lambda p: (p.stat().st_mtime_ns, p.name))
        stat = newest.stat()
        signature = f"{newest.name}|{stat.st_mtime_ns}|{stat.st_size}"
        if signature != record.get("lastSignature"):
            self._retrieve(record, newest, signature, sync)

    def _retrieve(self, record: dict[str, Any], path: Path, signature: str,
                  sync: dict[str, Any]) -> None:
        record["lastSignature"] = signature
        report: dict[str, Any] = {"fileName": path.name, "retrievedAt": now_text(self.clock)}
        try:
            members, report_counts = self._members(record, path.read_bytes(), sync)
        except FileRefused as exc:
            record["lastReport"] = {**report, "status": "ERROR", "error": str(exc)}
            self.store.save()
            return
        record.update(memberIds=sorted(members), lastFileName=path.name,
                      lastRetrievedAt=report["retrievedAt"],
                      lastRetrievedEpoch=self.clock.now().timestamp(),
                      lastReport={**report, "status": "OK", **report_counts})
        self.store.save()

    def _members(self, record: dict[str, Any], data: bytes,
                 sync: dict[str, Any]) -> tuple[set[int], dict[str, Any]]:
        entity = self.store.entity(record["entity"])
        table = entity.table(record["profileTable"]) if entity else None
        if table is None:
            raise FileRefused("the list's profile table no longer exists")
        key = record["keyAttribute"]
        members: set[int] = set()
        unmatched: list[int] = []
        lines = 0
        for payload in unpack(data):
            csv_file = read_csv(payload, encoding=sync.get("encoding", "UTF-8"))
            if key not in csv_file.header:
                raise FileRefused(f"the header has no {key} column")
            column = csv_file.header.index(key)
            for number, cells in csv_file.lines:
                lines += 1
                value = cells[column] if column < len(cells) else ""
                pid = table.find(key, value.strip())
                if pid is None:
                    unmatched.append(number)
                else:
                    members.add(pid)
        counts = {"lines": lines, "matched": len(members), "unmatched": len(unmatched),
                  "unmatchedLines": unmatched[:REPORTED_LINES]}
        return members, counts

