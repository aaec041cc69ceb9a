"""The Actito sandbox's data: entities, profile tables, profiles, ETL executions, file transfer
configuration and external target lists, persisted as one JSON document under the data dir.

The store owns consistency (unique attributes, ids) and persistence; it knows nothing of HTTP.
Callers hold `store.lock` around a read-modify-write and call `save()` after changing data.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TECHNICAL = ("profileId", "creationMoment", "updateMoment")


@dataclass
class Table:
    """A profile table: its attribute definitions and its profiles (id → attribute values)."""

    id: str
    name: str
    attributes: list[dict[str, Any]]
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1
    _indexes: dict[str, dict[Any, int]] = field(default_factory=dict, repr=False)

    def attribute(self, name: str) -> dict[str, Any] | None:
        return next((a for a in self.attributes if a["name"] == name), None)

    def unique_names(self) -> list[str]:
        return [a["name"] for a in self.attributes if a.get("unique")]

    def find(self, attribute: str, value: Any) -> int | None:
        """The id of the profile whose `attribute` equals `value` (unique attributes only)."""
        if attribute == "profileId":
            pid = int(value) if str(value).isdigit() else -1
            return pid if pid in self.profiles else None
        if value in (None, ""):
            return None
        if attribute not in self._indexes:
            self._indexes[attribute] = {
                v[attribute]: pid for pid, v in self.profiles.items()
                if v.get(attribute) not in (None, "")
            }
        return self._indexes[attribute].get(value)

    def _reindex(self, pid: int, old: dict[str, Any], new: dict[str, Any]) -> None:
        for attribute, index in self._indexes.items():
            if old.get(attribute) not in (None, "") and index.get(old[attribute]) == pid:
                del index[old[attribute]]
            if new.get(attribute) not in (None, ""):
                index[new[attribute]] = pid

    def conflicts(self, values: dict[str, Any], own_id: int | None) -> list[str]:
        """Unique attributes whose value already belongs to another profile."""
        clashes = []
        for name in self.unique_names():
            value = values.get(name)
            other = self.find(name, value) if value not in (None, "") else None
            if other is not None and other != own_id:
                clashes.append(name)
        return clashes

    def create(self, values: dict[str, Any], now: str) -> int:
        pid = self.next_id
        self.next_id += 1
        self.profiles[pid] = {**values, "creationMoment": now, "updateMoment": now}
        self._reindex(pid, {}, self.profiles[pid])
        return pid

    def delete(self, pid: int) -> None:
        self._reindex(pid, self.profiles.pop(pid), {})

    def update(self, pid: int, values: dict[str, Any], now: str) -> bool:
        """Apply changed values; True when something changed."""
        current = self.profiles[pid]
        changed = {k: v for k, v in values.items() if current.get(k) != v}
        if changed:
            self._reindex(pid, dict(current), {**current, **changed})
            current.update(changed)
            current["updateMoment"] = now
        return bool(changed)


@dataclass
class Entity:
    id: int
    name: str
    tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        """The table called `name` (what a v4 path and the sandbox's own callers hold)."""
        return next((t for t in self.tables.values() if t.name.lower() == name.lower()), None)

    def table_by_id(self, table_id: str) -> Table | None:
        """The table whose id is `table_id`: what a v5 path's `{profileTableId}` holds ([C],
        evidence §2); a name there finds nothing."""
        return next((t for t in self.tables.values() if t.id == table_id), None)


@dataclass
class Store:
    """All sandbox data. `path` None keeps it in memory only."""

    path: Path | None = None
    entities: dict[str, Entity] = field(default_factory=dict)
    etl_executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    bulk_counts: dict[str, int] = field(default_factory=dict)  # "table|yyyy-mm-dd" → count
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    synchronizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    target_lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    etls: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → ETL definition
    next_id: int = 100
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _deferring: int = field(default=0, repr=False)  # > 0: saves wait for `deferred` to end
    _unsaved: bool = field(default=False, repr=False)

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities.values() if e.name.lower() == name.lower()), None)

    def new_id(self) -> str:
        with self.lock:
            self.next_id += 1
            return str(self.next_id)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Saves asked for inside the block are made once, as it ends (a start-up that
        changes the store several times writes its document once)."""
        with self.lock:
            self._deferring += 1
        try:
            yield
        finally:
            with self.lock:
                self._deferring -= 1
                if not self._deferring and self._unsaved:
                    self.save()

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            if self._deferring:
                self._unsaved = True
                return
            self._unsaved = False
            document = {
                "entities": [
                    {"id": e.id, "name": e.name,
                     "tables": [_table_document(t) for t in e.tables.values()]}
                    for e in self.entities.values()
                ],
                "etl_executions": self.etl_executions, "bulk_counts": self.bulk_counts,
                "locations": self.locations, "synchronizations": self.synchronizations,
                "target_lists": self.target_lists, "etls": self.etls,
                "next_id": self.next_id,
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, self.path)


def _table_document(table: Table) -> dict[str, Any]:
    """The table as JSON wants it, without copying it (`asdict` deep-copies every profile
    and the indexes, the bulk of a seeded sandbox's start)."""
    return {"id": table.id, "name": table.name, "attributes": table.attributes,
            "profiles": table.profiles, "next_id": table.next_id}


def load_store(path: Path) -> Store | None:
    """The store saved at `path`, or None when there is none yet."""
    if not path.exists():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    store = Store(path=path)
    for raw in document["entities"]:
        entity = Entity(raw["id"], raw["name"])
        for table in raw["tables"]:
            profiles = {int(k): v for k, v in table.pop("profiles").items()}
            entity.tables[table["name"]] = Table(**table, profiles=profiles)
        store.entities[entity.name] = entity
    for name in ("etl_executions", "bulk_counts", "locations", "synchronizations",
                 "target_lists", "next_id"):
        setattr(store, name, document[name])
    store.etls = document.get("etls", {})  # absent from stores saved before it existed
    return store
