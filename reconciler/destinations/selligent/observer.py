"""The planner's read-only view of a Selligent audience list (see destinations/base.py).

An activation owns the static segment named by its audience's api name; its mapped fields are
fields of the audience list; its members are keys of the list's key field.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import duckdb

from reconciler.changes.batching import Batching
from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.destinations.base import Structure, ValuesRead, load_key_pages, load_row_pages
from reconciler.destinations.keyindex import FullRead
from reconciler.destinations.selligent.adapter import FieldInfo, SelligentAdapter
from reconciler.manifests.models import FieldType
from reconciler.manifests.settings import EffectiveActivation

# A Text field is created with an explicit length: Selligent's default when none is given is
# undocumented (api/selligent.md §8 [?]); 255 unless the mapping says `length`.
DEFAULT_TEXT_LENGTH = 255

# How our neutral field types are created as Selligent list fields ([I]: data type names from
# the vendor's Swagger; Numeric holds integers, Float decimals).
SELLIGENT_FIELD_TYPES = {
    FieldType.STRING: "Text",
    FieldType.INTEGER: "Numeric",
    FieldType.DECIMAL: "Float",
    FieldType.BOOLEAN: "Boolean",
    FieldType.DATE: "Date",
    FieldType.TIMESTAMP: "DateTime",
}


def created_length(declared: int | None) -> int:
    """The length a Text field this tool creates gets."""
    return declared or DEFAULT_TEXT_LENGTH


class SelligentObserver:
    def __init__(self, adapter: SelligentAdapter) -> None:
        self.adapter = adapter
        self._fields: dict[str, FieldInfo] | None = None
        self._contact_tables: dict[str, str] = {}  # key field → loaded table, per connection
        self._count: int | None = None  # the list's record count, read once per run

    @property
    def target(self) -> str:
        return f"org {self.adapter.organization}, list {self.adapter.list_api_name}"

    def _read_fields(self) -> dict[str, FieldInfo]:
        if self._fields is None:
            self._fields = {f.name.casefold(): f for f in self.adapter.read_fields()}
        return self._fields

    def plan_structure(self, activation: EffectiveActivation) -> Structure:
        fields = self._read_fields()
        list_name = self.adapter.list_api_name
        resources: list[ResourceChange] = []
        errors: list[str] = []
        key = activation.match_key.destination
        if key.casefold() not in fields:
            errors.append(f"the match key field {key} does not exist on list {list_name}; "
                          f"use one of its fields (e.g. {', '.join(sorted(fields)[:5])})")
        lengths: dict[str, int] = {}
        for mapping in activation.fields:
            existing = fields.get(mapping.destination.casefold())
            if existing is not None:
                if existing.data_type == "Text" and existing.length > 0:
                    lengths[mapping.destination] = existing.length
                continue
            if mapping.create and mapping.type is not None:
                detail = SELLIGENT_FIELD_TYPES[mapping.type]
                if mapping.type is FieldType.STRING:
                    lengths[mapping.destination] = created_length(mapping.length)
                    detail += f"({lengths[mapping.destination]})"
                resources.append(ResourceChange(
                    action=Action.CREATE, type=ResourceType.SELLIGENT_FIELD,
                    name=mapping.destination, detail=detail,
                    reason=f"missing on list {list_name}; mapped with create: true"))
            else:
                errors.append(f"field {mapping.destination} does not exist on list {list_name}: "
                              "add `create: true` and a `type` to its mapping, or map an "
                              "existing field")
        api_name = activation.selligent_api_name
        segment = self.adapter.read_segment(api_name)
        if segment is None:
            resources.insert(0, ResourceChange(
                action=Action.CREATE, type=ResourceType.SELLIGENT_SEGMENT, name=api_name,
                detail=f"named {activation.audience_name!r}" if api_name != activation.audience_name
                else "", reason=f"not found on list {list_name}"))
        elif segment.type != "Static":
            errors.append(f"segment {api_name} of list {list_name} is {segment.type}, not static: "
                          "rename the audience or remove that segment")
        return Structure(api_name, tuple(resources), tuple(errors), (), segment is not None,
                         field_lengths=lengths, batching=self.batching(),
                         remote_id=segment.api_name if segment is not None else None)

    def batching(self) -> Batching:
        """The client's call sizing (sizing.py), for the plan to show."""
        limits = self.adapter.client.limits
        return Batching(first_rows=limits.initial_rows_per_call,
                        max_rows=limits.max_rows_per_call,
                        sized_by=f"then sized by each call's time to stay well under the "
                                 f"{limits.inbound_limit_seconds:g}-s inbound limit")

    def load_contact_index(self, activation: EffectiveActivation,
                           conn: duckdb.DuckDBPyConnection, table: str, desired_table: str) -> None:
        key = activation.match_key.destination
        every = self._contact_tables.get(key.casefold())
        if every is None:  # one read of the list per key field, shared by its activations
            every = f"selligent_contacts_{len(self._contact_tables)}"
            load_key_pages(conn, every, self.adapter.iter_contact_keys(key))
            self._contact_tables[key.casefold()] = every
        # Every contact's key: the diff keeps the desired ones.
        conn.execute(f'CREATE OR REPLACE TEMP VIEW "{table}" AS SELECT member_key FROM "{every}"')

    # -- the contact index kept between plans (destinations/keyindex.py) ------------------
    def index_scope(self, activation: EffectiveActivation) -> str:
        return f"list {self.adapter.list_api_name}"

    def count_contacts(self, activation: EffectiveActivation) -> int | None:
        """[C] List_GetListRecordsCount (api/selligent.md §8): one call, once per run."""
        if self._count is None:
            self._count = self.adapter.count_contacts()
        return self._count

    def full_read(self, activation: EffectiveActivation) -> FullRead | None:
        """The pages of a full read, known from the record count (§8: read in parallel)."""
        size = self.adapter.client.limits.page_size
        pages = max(1, -(-(self.count_contacts(activation) or 0) // size))
        return FullRead(pages=pages, calls=pages)

    def iter_all_keys(self, activation: EffectiveActivation) -> Iterator[list[str]]:
        return self.adapter.iter_contact_keys(activation.match_key.destination,
                                              self.count_contacts(activation))

    def file_read(self) -> None:
        """Selligent's keys are read in pages, never from a file."""

    def check_keys(self, activation: EffectiveActivation, keys: Sequence[str]) -> list[str]:
        return self.adapter.find_contact_keys(activation.match_key.destination, keys)

    @property
    def calls_sent(self) -> int:
        return self.adapter.calls_sent

    def load_members(self, activation: EffectiveActivation,
                     conn: duckdb.DuckDBPyConnection, table: str) -> bool:
        key = activation.match_key.destination
        api_name = activation.selligent_api_name
        if self.adapter.read_segment(api_name) is None:
            load_key_pages(conn, table, [])
        else:
            load_key_pages(conn, table, self.adapter.iter_segment_member_keys(api_name, key))
        return True

    def load_member_values(self, activation: EffectiveActivation,
                           conn: duckdb.DuckDBPyConnection, table: str,
                           values_table: str) -> ValuesRead | None:
        """The segment's members with their mapped fields' values, in one read: the documented
        segment search asked for the key and the mapped fields instead of the key alone (the
        same pages, wider rows). None when a mapped field does not exist yet (apply creates
        it and sends every value).

        Evidence: vendor/selligent-swagger.yaml documents `POST …/segments/
        {segment_api_name}/data/search` (Data_SearchSegmentData) with the body
        SearchDataRequestModel, whose required `fields` names any fields of the list [C];
        api/selligent.md §2.4: values come typed JSON in the order of `fields` [C, from the
        list search's example; the segment search's 200 is declared only as `object`, so
        the same shape there is [I], as the member read already relies on]."""
        names = [m.destination for m in activation.fields]
        fields = self._read_fields()
        if not names or any(n.casefold() not in fields for n in names):
            return None
        before = self.adapter.calls_sent
        key, api_name = activation.match_key.destination, activation.selligent_api_name
        pages = (self.adapter.iter_segment_rows(api_name, key, names)
                 if self.adapter.read_segment(api_name) is not None else iter(()))
        read = load_row_pages(conn, table, values_table, names, pages)
        return ValuesRead(members=read, calls=self.adapter.calls_sent - before)

    def close(self) -> None:
        self.adapter.close()
