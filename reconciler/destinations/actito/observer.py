"""The planner's read-only view of an Actito profile table (see destinations/base.py).

An activation owns the external target list named after its audience; its key is a unique
attribute; its mapped fields are attributes of the table. Actito does not list a target
list's members ([I]), so drift is seen through the member count only.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import duckdb

from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.changes.tables import count_rows
from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.destinations.actito.adapter import ActitoAdapter
from reconciler.destinations.actito.models import TableStructure, TargetList, ValueType
from reconciler.destinations.actito.targeting import VALIDITY_MARGIN, ListTarget, list_target
from reconciler.destinations.base import Structure, ValuesRead, load_key_pages
from reconciler.destinations.keyindex import FullRead
from reconciler.destinations.rows import iter_rows
from reconciler.manifests.models import FieldType, ListManagement
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration

# [C] evidence §6 (ETL file rules): a string value holds at most 255 characters.
STRING_MAX = 255
ACTITO_VALUE_TYPES = {
    FieldType.STRING: ValueType.STRING,
    FieldType.INTEGER: ValueType.INTEGER,
    FieldType.DECIMAL: ValueType.DECIMAL,
    FieldType.BOOLEAN: ValueType.BOOLEAN,
    FieldType.DATE: ValueType.DATE,
    FieldType.TIMESTAMP: ValueType.TIMESTAMP,
}


def file_refresh(found: TargetList, activation: EffectiveActivation,
                 now: dt.datetime) -> str | None:
    """Why the list's key file must be dropped again even without member changes, or None.

    A list whose file expired targets nobody ([I], api/actito.md §2.8): the file is dropped
    again when it has expired, never arrived, or expires before the next scheduled run.
    """
    if found.status == "EXPIRED":
        return "its file has expired: the list targets nobody until a new file arrives"
    retrieved = (found.last_report or {}).get("retrievedAt")
    if found.status == "WAITING_FOR_FILE" or not retrieved:
        return "no file has been read for it yet"
    expires = dt.datetime.fromisoformat(str(retrieved).replace("Z", "+00:00")) + found.validity
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    horizon = activation.schedule_interval() or dt.timedelta(0)
    if expires <= now + horizon + VALIDITY_MARGIN:
        return (f"its file expires at {expires:%Y-%m-%d %H:%M} UTC, before the next scheduled "
                "run")
    return None


def _is_string(structure: TableStructure, name: str, declared: FieldType | None) -> bool:
    found = structure.attribute(name)
    if found is not None:
        return found.value_type == ValueType.STRING.value
    return declared is FieldType.STRING


def operations_used(activation: EffectiveActivation, resources: list[ResourceChange],
                    documented_only: bool = False, exported: bool = False) -> list[str]:
    """The route table's operations (routes.py) a plan and apply of `activation` may send
    (keys read from an export need no call; documented only: they are looked up one by one,
    never listed)."""
    used = ["listProfileTables", "getProfileTable"]
    if not exported:
        used += ["getProfile"] if documented_only else ["getProfile", "listProfiles"]
    if any(r.type is ResourceType.ACTITO_ATTRIBUTE for r in resources):
        used.append("createAttribute")
    if activation.fields:
        etl = getattr(activation, "etl_id", None)
        used += ["triggerEtl" if etl else "startEtlExecution", "getEtlExecution"]
    settings = activation.target_list
    if settings is not None and settings.manage is ListManagement.API:
        used += ["listLocations", "createLocation", "listSynchronizations",
                 "createSynchronization", "listTargetLists", "createTargetList",
                 "getTargetList", "deleteTargetList"]
    return used


class ActitoObserver:
    def __init__(self, adapter: ActitoAdapter, clock: Clock = SYSTEM_CLOCK) -> None:
        self.adapter = adapter
        self.clock = clock
        self._structure: TableStructure | None = None
        self._counts: dict[str, int | None] = {}  # key attribute → profile count, per run

    @property
    def target(self) -> str:
        return f"entity {self.adapter.entity}, table {self.adapter.table}"

    def _read_structure(self) -> TableStructure:
        if self._structure is None:
            self._structure = self.adapter.read_structure()
        return self._structure

    def plan_structure(self, activation: EffectiveActivation) -> Structure:
        structure = self._read_structure()
        table = self.adapter.table
        resources: list[ResourceChange] = []
        errors: list[str] = []
        warnings: list[str] = []
        key = activation.match_key.destination
        found = structure.attribute(key)
        if found is None or not found.unique:
            what = "does not exist" if found is None else "is not unique"
            errors.append(f"the match key {key} {what} in table {table}; unique attributes: "
                          f"{', '.join(structure.keys)}")
        for mapping in activation.fields:
            attribute = structure.attribute(mapping.destination)
            if attribute is not None:
                wanted = ACTITO_VALUE_TYPES[mapping.type].value if mapping.type else None
                if wanted and attribute.value_type and attribute.value_type != wanted:
                    # [C] evidence §3: an attribute's type cannot change after creation.
                    errors.append(f"attribute {mapping.destination} of table {table} is "
                                  f"{attribute.value_type}, the mapping says {wanted}: Actito "
                                  "cannot change an attribute's type; map another attribute "
                                  "or drop `type`")
                continue
            if mapping.create and mapping.type is not None:
                resources.append(ResourceChange(
                    action=Action.CREATE, type=ResourceType.ACTITO_ATTRIBUTE,
                    name=mapping.destination, detail=ACTITO_VALUE_TYPES[mapping.type].value,
                    reason=f"missing in table {table}; mapped with create: true"))
            else:
                errors.append(f"attribute {mapping.destination} does not exist in table {table}: "
                              "add `create: true` and a `type` to its mapping, or map an "
                              "existing attribute")
        target = list_target(activation)
        existing = None
        if target.managed_by_api:
            existing = self._api_list(activation, target, resources, errors, warnings)
        routes = self.adapter.routes
        inferred = routes.inferred(operations_used(activation, resources, routes.documented_only,
                                                   self.adapter.export is not None))
        if inferred and routes.documented_only:
            errors.append(
                "needs undocumented Actito operations ("
                + ", ".join(r.operation for r in inferred) + ") and the destination sets "
                "api.documentedOnly: true: create missing attributes in the portal, or give "
                "those routes under api.routes")
        lengths = {m.destination: STRING_MAX for m in activation.fields
                   if _is_string(structure, m.destination, m.type)}
        # A list set up in the portal cannot be seen (no documented read): not `list_exists`.
        # It is the manifests' own by declaration (targetList.manage: portal): no import.
        return Structure(activation.audience_name, tuple(resources), tuple(errors),
                         tuple(warnings), existing is not None,
                         existing.member_count if existing is not None else None,
                         field_lengths=lengths,
                         inferred=tuple(r.describe() for r in inferred),
                         declared=not target.managed_by_api or target.list_id is not None,
                         remote_id=existing.id if existing is not None else target.list_id)

    def _api_list(self, activation: EffectiveActivation, target: ListTarget,
                  resources: list[ResourceChange], errors: list[str],
                  warnings: list[str]) -> TargetList | None:
        """[I] a list managed by API: read it, and plan its creation or a file refresh."""
        name, key = target.name, target.key_attribute
        existing = self.adapter.read_target_list(target)
        validity = activation.target_list_validity
        if existing is None:
            resources.insert(0, ResourceChange(
                action=Action.CREATE, type=ResourceType.ACTITO_TARGET_LIST, name=name,
                detail=f"key {key}, valid {validity}", reason="not found in the entity"))
            return None
        if existing.key_attribute != key:
            errors.append(f"external target list {name!r} is keyed by "
                          f"{existing.key_attribute}, not {key}: rename the audience")
        if existing.validity != parse_duration(validity):
            warnings.append(f"external target list {name!r} keeps its validity of "
                            f"{existing.validity} (the manifests ask {validity}); change it "
                            "in Actito")
        refresh = file_refresh(existing, activation, self.clock.now())
        if refresh is not None:
            resources.insert(0, ResourceChange(
                action=Action.UPDATE, type=ResourceType.ACTITO_TARGET_LIST, name=name,
                detail="drop its key file again", reason=refresh))
        return existing

    def load_contact_index(self, activation: EffectiveActivation,
                           conn: duckdb.DuckDBPyConnection, table: str, desired_table: str) -> None:
        key = activation.match_key.destination
        count = count_rows(conn, desired_table)
        keys = (str(row[0]) for row in iter_rows(conn, desired_table, ["member_key"]))
        # Pages of existing keys (maybe a superset: every profile's key); the diff keeps the
        # desired ones.
        load_key_pages(conn, table, self.adapter.iter_existing_keys(key, keys, count,
                                                                   self.clock.now()))

    # -- the contact index kept between plans (destinations/keyindex.py) ------------------
    def index_scope(self, activation: EffectiveActivation) -> str:
        return f"table {self.adapter.table}"

    def count_contacts(self, activation: EffectiveActivation) -> int | None:
        """The profile count ([I] the listing's total), read once per run and key."""
        key = activation.match_key.destination
        if key not in self._counts:
            self._counts[key] = self.adapter.count_profiles(key)
        return self._counts[key]

    def full_read(self, activation: EffectiveActivation) -> FullRead | None:
        """The daily export when the destination names one ([C] evidence §9: one file), else
        the profile listing's pages ([I] route, sized by its announced total); None when
        only documented routes are allowed and there is no export."""
        adapter = self.adapter
        if adapter.export is not None:
            return FullRead(pages=1, calls=0, file=adapter.export.file_pattern)
        total = self.count_contacts(activation)
        if total is None:
            return None
        pages = max(1, -(-total // adapter.page_size))
        return FullRead(pages=pages, calls=pages + 1)

    def iter_all_keys(self, activation: EffectiveActivation) -> Iterator[list[str]]:
        key = activation.match_key.destination
        if self.adapter.exported is not None:
            return self.adapter.exported.keys(key, self.clock.now())
        return self.adapter.iter_keys(key)

    def file_read(self) -> tuple[str, dt.datetime | None] | None:
        exported = self.adapter.exported
        return exported.file_read if exported is not None else None

    def check_keys(self, activation: EffectiveActivation, keys: Sequence[str]) -> list[str]:
        return self.adapter.find_keys(activation.match_key.destination, keys)

    @property
    def calls_sent(self) -> int:
        return self.adapter.client.calls_sent

    def load_members(self, activation: EffectiveActivation,
                     conn: duckdb.DuckDBPyConnection, table: str) -> bool:
        return False

    def load_member_values(self, activation: EffectiveActivation,
                           conn: duckdb.DuckDBPyConnection, table: str,
                           values_table: str) -> ValuesRead | None:
        """No documented call lists a target list's members (see `load_members`)."""
        return None

    def close(self) -> None:
        """The export's local copy goes; the client holds no connection between calls."""
        self.adapter.close()
