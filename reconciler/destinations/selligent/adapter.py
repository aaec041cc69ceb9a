"""What the planner and executor do with one Selligent audience list (see design.md).

An activation owns a static segment of the organization's audience list. The adapter reads
lists, fields and segments; streams the contact index (which keys exist) and a segment's
members in pages; creates the segment and missing fields; adds and removes members by key;
and updates mapped fields of existing contacts (`OnlyUpdate`). No method ever inserts a
contact: segment loads only reference existing records, field updates never insert.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.selligent.chunking import in_order
from reconciler.destinations.selligent.client import SelligentClient
from reconciler.destinations.selligent.errors import SelligentNotFoundError
from reconciler.destinations.selligent.results import DataResult
from reconciler.destinations.selligent.transport import SelligentLimits


@dataclass(frozen=True)
class ListInfo:
    api_name: str
    name: str
    type: str  # Userlist (audience list), Datalist, …


@dataclass(frozen=True)
class FieldInfo:
    name: str
    data_type: str  # Text, Numeric, Float, Boolean, Date, DateTime, …
    length: int = 0


@dataclass(frozen=True)
class SegmentInfo:
    api_name: str
    name: str
    type: str  # Static, Dynamic or External
    description: str = ""


@dataclass(frozen=True)
class FieldSpec:
    """A list field to create when missing."""

    name: str
    data_type: str = "Text"
    length: int | None = None  # Text fields: Selligent's default when None
    description: str = ""


class SelligentAdapter:
    """The destination operations on one audience list of one Selligent organization."""

    def __init__(self, *, base_url: str, organization: str, list_api_name: str, api_key: str,
                 api_secret: str, limits: SelligentLimits | None = None, **transport: Any) -> None:
        """`base_url` ends with /Portal/Api; `limits` sizes pages and chunks and the retries;
        `transport` options (`session`, `sleep`) go to the HTTP layer, mostly for tests."""
        self.client = SelligentClient(base_url, api_key, api_secret, limits, **transport)
        self.organization = organization
        self.list_api_name = list_api_name

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()

    def __enter__(self) -> SelligentAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------
    def check_access(self) -> None:
        """Raise unless the API answers and the audience list is readable with this key."""
        self.client.get_status()
        self.client.get_list(self.organization, self.list_api_name)

    def read_lists(self) -> list[ListInfo]:
        """Every list of the organization."""
        return [ListInfo(i["api_name"], i.get("name", ""), i.get("type", "Unknown"))
                for i in self.client.iter_lists(self.organization)]

    def read_fields(self) -> list[FieldInfo]:
        """The fields of the audience list."""
        return [FieldInfo(f["name"], f.get("data_type", "Unknown"), int(f.get("length") or 0))
                for f in self.client.get_fields(self.organization, self.list_api_name)]

    def read_static_segments(self) -> list[SegmentInfo]:
        """The static segments of the audience list (one call per segment for its details)."""
        listed = self.client.iter_segments(self.organization, self.list_api_name,
                                           segment_type="Static")
        return [self._segment_info(item["api_name"]) for item in listed
                if item.get("segment_type") == "Static"]

    def read_segment(self, api_name: str) -> SegmentInfo | None:
        """One segment of the audience list, or None when it does not exist."""
        try:
            return self._segment_info(api_name)
        except SelligentNotFoundError:
            return None

    def _segment_info(self, api_name: str) -> SegmentInfo:
        item = self.client.get_segment(self.organization, self.list_api_name, api_name)
        return SegmentInfo(item.get("api_name", api_name), item.get("name", ""),
                           item.get("type", "Unknown"), item.get("description") or "")

    def iter_contact_keys(self, key_field: str, count: int | None = None) -> Iterator[list[str]]:
        """The contact index: pages of the `key_field` values present in the audience list
        (`count`: its record count, when just read)."""
        if count is None:
            count = self.client.count_list_records(self.organization, self.list_api_name)
        pages = self.client.search_list_data(self.organization, self.list_api_name, [key_field],
                                             order_by=key_field, expected=count)
        for page in pages:
            yield [str(row[0]) for row in page if row and row[0] not in (None, "")]

    def count_contacts(self) -> int:
        """The audience list's record count (List_GetListRecordsCount, one call)."""
        return self.client.count_list_records(self.organization, self.list_api_name)

    def find_contact_keys(self, key_field: str, keys: Sequence[str]) -> list[str]:
        """Of `keys`, those of a record of the list: one `data/search` per key filtered with
        `EqualTo` (api/selligent.md §2.4 [C]; filters combine with AND only, so a call cannot
        ask for several keys), `read_in_flight` at a time within the key's rate limit."""
        def exists(key: str) -> bool:
            rows = self.client.search_list_page(
                self.organization, self.list_api_name, [key_field],
                [{"field_name": key_field, "operator": "EqualTo", "field_value": key}], 1)
            return any(row and str(row[0]) == key for row in rows)

        found = in_order(keys, exists, self.client.limits.read_in_flight)
        return [key for key, there in zip(keys, found, strict=True) if there]

    def iter_contacts(self, key_field: str, fields: Sequence[str]) -> Iterator[list[list[Any]]]:
        """Pages of rows `[key, *fields]` of the audience list (e.g. to see remote values)."""
        yield from self.client.search_list_data(self.organization, self.list_api_name,
                                                [key_field, *fields], order_by=key_field)

    def iter_segment_member_keys(self, segment: str, key_field: str) -> Iterator[list[str]]:
        """Pages of the `key_field` values of a segment's members."""
        pages = self.client.search_segment_data(self.organization, self.list_api_name, segment,
                                                [key_field], order_by=key_field)
        for page in pages:
            yield [str(row[0]) for row in page if row and row[0] not in (None, "")]

    def iter_segment_rows(self, segment: str, key_field: str,
                          fields: Sequence[str]) -> Iterator[list[list[Any]]]:
        """Pages of rows `[key, *fields]` of a segment's members (Data_SearchSegmentData:
        api/selligent.md §2.4 documents the segment search with the list search's request
        model, whose `fields` name any list fields, values typed JSON in their order)."""
        pages = self.client.search_segment_data(self.organization, self.list_api_name, segment,
                                                [key_field, *fields], order_by=key_field)
        for page in pages:
            yield [row for row in page if row and row[0] not in (None, "")]

    @property
    def calls_sent(self) -> int:
        """The calls sent so far on this adapter's key (retries included)."""
        return self.client.transport.calls_sent

    # -- writing -------------------------------------------------------------------------
    def create_static_segment(self, api_name: str, name: str,
                              description: str = "") -> SegmentInfo:
        """Create the static segment `api_name` (as the plan named it, see manifests/naming.py)
        titled `name`; a static segment already there with that api name is returned as it is.
        Two calls (read, create) when it is new: a successful create answers for what it made."""
        existing = self.read_segment(api_name)
        if existing is None:
            try:
                self.client.create_static_segment(self.organization, self.list_api_name,
                                                  api_name, name, description)
            except PermanentApiError:
                existing = self.read_segment(api_name)
                if existing is None:  # not a retried success: a real refusal
                    raise
            else:
                return SegmentInfo(api_name, name, "Static", description)
        if existing.type != "Static":
            raise PermanentApiError(
                f"segment {api_name} of list {self.list_api_name} exists but is {existing.type}, "
                "not static", destination="Selligent")
        return existing

    def delete_static_segment(self, api_name: str) -> bool:
        """Delete the static segment `api_name` (its members stay in the list); False when it
        was already gone. A segment of that name that is not static is refused, not deleted."""
        existing = self.read_segment(api_name)
        if existing is None:
            return False
        if existing.type != "Static":
            raise PermanentApiError(
                f"segment {api_name} of list {self.list_api_name} is {existing.type}, not the "
                "static segment this tool created: not deleted", destination="Selligent")
        try:
            self.client.delete_segment(self.organization, self.list_api_name, api_name)
        except SelligentNotFoundError:
            return False  # a retried delete whose first attempt went through
        return True

    def add_segment_members(self, segment: str, key_field: str, keys: Iterable[str]) -> DataResult:
        """Add the contacts with these keys to the segment; unknown keys are only counted
        (`not_found`), never created."""
        return self.client.load_segment_data(self.organization, self.list_api_name, segment,
                                             [key_field], [key_field], ([k] for k in keys))

    def remove_segment_members(self, segment: str, key_field: str,
                               keys: Iterable[str]) -> DataResult:
        """Remove the contacts with these keys from the segment (they stay in the list)."""
        return self.client.delete_segment_data(self.organization, self.list_api_name, segment,
                                               [key_field], [key_field], ([k] for k in keys))

    def update_contact_fields(self, key_field: str, fields: Sequence[str],
                              rows: Iterable[Sequence[Any]]) -> DataResult:
        """Set `fields` of existing contacts; each row is `[key, *values]`. Unknown keys are
        counted as `not_found`, refused rows are in `invalid_records` (OnlyUpdate: no inserts)."""
        if key_field in fields:
            raise ValueError(f"the key field {key_field} cannot also be an updated field")
        return self.client.load_list_data(self.organization, self.list_api_name, [key_field],
                                          [key_field, *fields], rows, import_option="OnlyUpdate")

    def create_missing_fields(self, fields: Sequence[FieldSpec]) -> list[str]:
        """Create the fields the audience list lacks; returns the names created."""
        have = {f.name.casefold() for f in self.read_fields()}
        missing = [f for f in fields if f.name.casefold() not in have]
        if not missing:
            return []
        specs = [{k: v for k, v in vars(f).items() if v not in (None, "")} for f in missing]
        try:
            self.client.create_fields(self.organization, self.list_api_name, specs)
        except PermanentApiError:
            have = {f.name.casefold() for f in self.read_fields()}
            if any(f.name.casefold() not in have for f in missing):  # not a retried success
                raise
        return [f.name for f in missing]
