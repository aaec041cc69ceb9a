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
from collections.abc import Callable, Iterator
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
        # Bumped by every change of a record (insert, update, delete): derived orderings
        # (`ordered`) are kept only for the revision they were made at; never saved
        self.revision = 0
        self._orderings: dict[tuple[str, bool], tuple[int, list[Any]]] = {}

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

    def ordered(self, name: str, descending: bool,
                make: Callable[[], list[Any]]) -> list[Any]:
        """All records ordered by the field `name`, as `make` orders them, made once per
        revision: paging through 10,000 pages of a large list sorts it once, not per page.
        Callers must not change the list."""
        kept = self._orderings.get((name, descending))
        if kept is None or kept[0] != self.revision:
            kept = self._orderings[(name, descending)] = (self.revision, make())
        return kept[1]

    def segment(self, api_name: str) -> Segment | None:
        return next((s for s in self.segments if same_name(s.api_name, api_name)), None)

    def insert(self, values: dict[str, Any]) -> int:
        record_id = self.next_record_id
        self.next_record_id += 1
        self.records[record_id] = values
        self.revision += 1
        for names, index in self._indexes.items():
            index.setdefault(_key(values, names), []).append(record_id)  # the highest id
        return record_id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        """Set some fields of a record. Its dict is replaced, never changed in place: a save
        may be reading the old one (see `Store.save`)."""
        old_values = self.records[record_id]
        if all(name in old_values and old_values[name] == value
               for name, value in changes.items()):
            return  # nothing changes (a load often sets the values a record already has)
        values = self.records[record_id] = {**old_values, **changes}
        self.revision += 1
        moved = [(names, index, _key(old_values, names)) for names, index in self._indexes.items()
                 if any(n in changes and changes[n] != old_values.get(n) for n in names)]
        for names, index, old in moved:
            new = _key(values, names)
            if new != old:
                _unindex(index, old, record_id)
                insort(index.setdefault(new, []), record_id)

    def delete(self, record_id: int) -> None:
        values = self.records.pop(record_id, None)
        if values is None:
            return
        self.revision += 1
        for names, index in self._indexes.items():
            _unindex(index, _key(values, names), record_id)
        for segment in self.segments:
            segment.members.discard(record_id)


def _key(values: dict[str, Any], names: tuple[str, ...]) -> Key:
    if len(names) == 1:  # the usual case, on a hot path
        return (key_of(values.get(names[0])),)
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

    def __init__(self, path: Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`clock`: seconds, for when to save (the sandbox's Faults.clock; tests move it)."""
        self.path = path
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = False  # unsaved changes (saved in the background, see server.py)
        self.changed_at = self.unsaved_since = 0.0  # the last change, the first unsaved one
        self.active_at = 0.0  # the last request
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
        now = self.clock()
        if not self.changed:
            self.unsaved_since = now
        self.changed, self.changed_at = True, now

    def note_request(self) -> None:
        """A request arrived (the server is busy: not the moment to save)."""
        self.active_at = self.clock()

    def save_due(self, idle: float, longest: float) -> bool:
        """Unsaved changes, and no request for `idle` seconds or the oldest `longest` old."""
        now = self.clock()
        quiet = now - max(self.changed_at, self.active_at) >= idle
        return self.changed and (quiet or now - self.unsaved_since >= longest)

    def save_if_changed(self) -> None:
        with self._saving:
            with self.lock:
                if not self.changed:
                    return
                snapshot = self._snapshot()
                self.changed = False
            self._write(snapshot)

    def save(self) -> None:
        """Write the whole store atomically (temp file + rename), if it has a path. Only a
        copy is taken under the lock (milliseconds: records are never changed in place, so
        copying the dicts that hold them is enough); it is serialised and written after."""
        with self._saving:
            with self.lock:
                snapshot = self._snapshot()
            self._write(snapshot)

    def _snapshot(self) -> list[tuple[str, list[_ListCopy]]] | None:
        if self.path is None:
            return None
        return [(o.name, [_ListCopy.of(t) for t in o.lists]) for o in self.organizations]

    def _write(self, snapshot: list[tuple[str, list[_ListCopy]]] | None) -> None:
        if self.path is None or snapshot is None:
            return
        organizations = ",".join(
            f'{{"name": {json.dumps(name)}, "lists": [{",".join(t.text() for t in lists)}]}}'
            for name, lists in snapshot)
        # next_list_id: read without the lock (an int; a list created meanwhile is saved next)
        text = f'{{"next_list_id": {self.next_list_id}, "organizations": [{organizations}]}}'
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, self.path)

    @classmethod
    def load(cls, path: Path, clock: Callable[[], float] = time.monotonic) -> Store:
        """Read a store saved by `save`."""
        data = json.loads(path.read_text(encoding="utf-8"))
        store = cls(path, clock)
        store.next_list_id = data["next_list_id"]
        store.organizations = [_org_from_json(o) for o in data["organizations"]]
        return store


RECORDS_PER_PIECE = 2000  # records serialised at a time (see _ListCopy.text)


@dataclass(frozen=True)
class _ListCopy:
    """A list as it will be saved, copied under the store's lock."""

    details: dict[str, Any]  # everything but the records, JSON-ready
    records: list[tuple[int, dict[str, Any]]]  # the record dicts themselves (never changed)

    @classmethod
    def of(cls, table: ListTable) -> _ListCopy:
        details = {f.name: getattr(table, f.name) for f in fields(table) if f.name != "records"}
        details["tags"] = list(table.tags)
        details["fields"] = [asdict(f) for f in table.fields]
        details["segments"] = [
            {**{f.name: getattr(s, f.name) for f in fields(s)}, "tags": list(s.tags),
             "filters": [dict(f) for f in s.filters], "members": sorted(s.members)}
            for s in table.segments]
        return cls(details, list(table.records.items()))

    def text(self) -> str:
        """The list in JSON. Records go through json.dumps a few thousand at a time: it holds
        the interpreter while it runs, and one call over a 100k-contact list (~0.2 s) would
        stall every request thread meanwhile."""
        pieces = (json.dumps(self.records[i : i + RECORDS_PER_PIECE])[1:-1]
                  for i in range(0, len(self.records), RECORDS_PER_PIECE))
        return f'{json.dumps(self.details)[:-1]}, "records": [{",".join(pieces)}]}}'


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
