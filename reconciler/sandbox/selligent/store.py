"""The Selligent sandbox's data: organizations, lists, fields, records, segments; JSON on disk.

The store owns the data model and its persistence (one JSON file, rewritten atomically at most
every half second after a change, and on stop) and nothing of HTTP: the routes in `app.py`
translate requests into these objects. Every access goes through `Store.lock`, since the server
answers from several threads.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reconciler.sandbox.selligent.inferred import same_name

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

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if same_name(f.name, name)), None)

    def segment(self, api_name: str) -> Segment | None:
        return next((s for s in self.segments if same_name(s.api_name, api_name)), None)

    def insert(self, values: dict[str, Any]) -> int:
        record_id = self.next_record_id
        self.next_record_id += 1
        self.records[record_id] = values
        return record_id

    def delete(self, record_id: int) -> None:
        self.records.pop(record_id, None)
        for segment in self.segments:
            segment.members.discard(record_id)


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
        self.changed = True

    def save_if_changed(self) -> None:
        with self.lock:
            if self.changed:
                self.save()
                self.changed = False

    def save(self) -> None:
        """Write the whole store atomically (temp file + rename), if it has a path."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        organizations = [_org_json(o) for o in self.organizations]
        data = {"next_list_id": self.next_list_id, "organizations": organizations}
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temp, self.path)

    @classmethod
    def load(cls, path: Path) -> Store:
        """Read a store saved by `save`."""
        data = json.loads(path.read_text(encoding="utf-8"))
        store = cls(path)
        store.next_list_id = data["next_list_id"]
        store.organizations = [_org_from_json(o) for o in data["organizations"]]
        return store


def _org_json(org: Organization) -> dict[str, Any]:
    lists = []
    for table in org.lists:
        item = asdict(table)
        item["records"] = [[rid, values] for rid, values in table.records.items()]
        for segment in item["segments"]:
            segment["members"] = sorted(segment["members"])
        lists.append(item)
    return {"name": org.name, "lists": lists}


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
