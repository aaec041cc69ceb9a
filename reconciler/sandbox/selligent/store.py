"""The Selligent sandbox's data: organizations, lists, fields, records, segments; JSON on disk.

The store owns the data model and its persistence (one JSON file, rewritten atomically soon
after changes, see server.py, and on stop) and nothing of HTTP: the routes in `app.py`
translate requests into these objects. Every access goes through `Store.lock`, since the server
answers from several threads. A list keeps an index of its records by key values for each
combination of key fields a load used, so a load costs time in its own rows, not in the list's
size (a real tenant's tables are indexed too); records change only through `insert`, `update`
and `delete`, which keep those indexes right.
"""
from __future__ import annotations

import json
import os
import threading
import time
from bisect import insort
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from reconciler.sandbox.selligent.inferred import key_of, same_name

Key = tuple[str, ...]  # a record's key field values, as `key_of` matches them

FIELD_TYPES = (
    "Boolean", "Numeric", "Long", "Float", "Date", "DateTime", "Text", "LongText", "Json",
)


@dataclass
class Field:
    name: str
    data_type: str = "Text"
    length: int = 0  # 0: unbounded
    description: str = ""
    allow_null: bool = True


@dataclass
class Segment:
    api_name: str
    name: str
    type: str = "Static"  # Static | Dynamic | External
    description: str = ""
    tags: list[str] = field(default_factory=list)
    members: set[int] = field(default_factory=set)  # record ids, static segments only
    filters: list[dict[str, str]] = field(default_factory=list)  # dynamic segments only


@dataclass
class ListTable:
    id: int
    api_name: str
    name: str
    type: str = "Userlist"
    description: str = ""
    tags: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {FIELD: value}
    segments: list[Segment] = field(default_factory=list)
    next_record_id: int = 1

    def __post_init__(self) -> None:
        # {key field names: {key: record ids, ascending}}; derived data, never saved
        self._indexes: dict[tuple[str, ...], dict[Key, list[int]]] = {}

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if same_name(f.name, name)), None)

    def index(self, names: tuple[str, ...]) -> dict[Key, list[int]]:
        """Record ids by their values of the fields `names`; built on first use, then kept up
        to date. Callers must not change it (nor the lists it holds)."""
        found = self._indexes.get(names)
        if found is None:
            found = {}
            for record_id, values in self.records.items():
                found.setdefault(_key(values, names), []).append(record_id)
            self._indexes[names] = found
        return found

    def segment(self, api_name: str) -> Segment | None:
        return next((s for s in self.segments if same_name(s.api_name, api_name)), None)

    def insert(self, values: dict[str, Any]) -> int:
        record_id = self.next_record_id
        self.next_record_id += 1
        self.records[record_id] = values
        for names, index in self._indexes.items():
            index.setdefault(_key(values, names), []).append(record_id)  # the highest id
        return record_id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        """Set some fields of a record."""
        values = self.records[record_id]
        moved = [(names, index, _key(values, names)) for names, index in self._indexes.items()
                 if any(n in changes and changes[n] != values.get(n) for n in names)]
        values.update(changes)
        for names, index, old in moved:
            new = _key(values, names)
            if new != old:
                _unindex(index, old, record_id)
                insort(index.setdefault(new, []), record_id)

    def delete(self, record_id: int) -> None:
        values = self.records.pop(record_id, None)
        if values is None:
            return
        for names, index in self._indexes.items():
            _unindex(index, _key(values, names), record_id)
        for segment in self.segments:
            segment.members.discard(record_id)


def _key(values: dict[str, Any], names: tuple[str, ...]) -> Key:
    return tuple(key_of(values.get(n)) for n in names)


def _unindex(index: dict[Key, list[int]], key: Key, record_id: int) -> None:
    ids = index[key]
    ids.remove(record_id)
    if not ids:
        del index[key]


@dataclass
class Organization:
    name: str
    lists: list[ListTable] = field(default_factory=list)

    def list(self, api_name: str) -> ListTable | None:
        return next((t for t in self.lists if same_name(t.api_name, api_name)), None)


class Store:
    """All organizations of one sandbox; saved to `path` (soon after each change) when set."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.changed = False  # unsaved changes (saved in the background, see server.py)
        self.changed_at = self.unsaved_since = 0.0  # the last change, the first unsaved one
        self._saving = threading.Lock()  # one writer of the file at a time
        self.organizations: list[Organization] = []
        self.next_list_id = 1

    def organization(self, name: str) -> Organization | None:
        return next((o for o in self.organizations if same_name(o.name, name)), None)

    def add_organization(self, name: str) -> Organization:
        org = self.organization(name)
        if org is None:
            org = Organization(name)
            self.organizations.append(org)
        return org

    def add_list(self, org: Organization, **details: Any) -> ListTable:
        table = ListTable(id=self.next_list_id, **details)
        self.next_list_id += 1
        org.lists.append(table)
        return table

    def all_lists(self) -> Iterator[ListTable]:
        for org in self.organizations:
            yield from org.lists

    def mark_changed(self) -> None:
        """A request changed the store; it is saved soon (see server.py), not at once."""
        now = time.monotonic()
        if not self.changed:
            self.unsaved_since = now
        self.changed, self.changed_at = True, now

    def save_due(self, idle: float, longest: float) -> bool:
        """Unsaved changes, and none for `idle` seconds or the oldest `longest` seconds old."""
        now = time.monotonic()
        return self.changed and (now - self.changed_at >= idle
                                 or now - self.unsaved_since >= longest)

    def save_if_changed(self) -> None:
        with self._saving:
            with self.lock:
                if not self.changed:
                    return
                text = self._json_text()
                self.changed = False
            self._write(text)

    def save(self) -> None:
        """Write the whole store atomically (temp file + rename), if it has a path. The JSON
        text is made under the lock, the file written after it is released."""
        with self._saving:
            with self.lock:
                text = self._json_text()
            self._write(text)

    def _json_text(self) -> str | None:
        if self.path is None:
            return None
        organizations = ",".join(_org_text(o) for o in self.organizations)
        return f'{{"next_list_id": {self.next_list_id}, "organizations": [{organizations}]}}'

    def _write(self, text: str | None) -> None:
        if self.path is None or text is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, self.path)

    @classmethod
    def load(cls, path: Path) -> Store:
        """Read a store saved by `save`."""
        data = json.loads(path.read_text(encoding="utf-8"))
        store = cls(path)
        store.next_list_id = data["next_list_id"]
        store.organizations = [_org_from_json(o) for o in data["organizations"]]
        return store


RECORDS_PER_PIECE = 2000  # records serialised at a time (see _org_text)


def _org_text(org: Organization) -> str:
    """An organization as saved, in JSON. The records of a list are serialised a few thousand
    at a time: json.dumps holds the interpreter while it runs, and one call over a 100k-contact
    list (~0.2 s) would stall every request thread meanwhile, their rate-limit counting
    included. Records are referenced, not copied: the caller holds the store's lock."""
    lists = []
    for table in org.lists:
        item = {f.name: getattr(table, f.name) for f in fields(table) if f.name != "records"}
        item["fields"] = [asdict(f) for f in table.fields]
        item["segments"] = [{**{f.name: getattr(s, f.name) for f in fields(s)},
                             "members": sorted(s.members)} for s in table.segments]
        records = list(table.records.items())
        pieces = (json.dumps(records[i : i + RECORDS_PER_PIECE])[1:-1]
                  for i in range(0, len(records), RECORDS_PER_PIECE))
        lists.append(f'{json.dumps(item)[:-1]}, "records": [{",".join(pieces)}]}}')
    return f'{{"name": {json.dumps(org.name)}, "lists": [{",".join(lists)}]}}'


def _org_from_json(data: dict[str, Any]) -> Organization:
    org = Organization(data["name"])
    for item in data["lists"]:
        item = dict(item)
        item["fields"] = [Field(**f) for f in item["fields"]]
        item["segments"] = [
            Segment(**{**s, "members": set(s["members"])}) for s in item["segments"]
        ]
        item["records"] = {int(rid): values for rid, values in item["records"]}
        org.lists.append(ListTable(**item))
    return org
