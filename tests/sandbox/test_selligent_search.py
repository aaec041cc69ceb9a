"""The Selligent sandbox's data/search orders a whole list once per change of its records."""
from __future__ import annotations

from reconciler.sandbox.selligent import search
from reconciler.sandbox.selligent.store import Field, ListTable

REQUEST = {"fields": ["EXTERNAL_ID"], "order_by": "EXTERNAL_ID", "skip": 0, "take": 10}


def _keys(table: ListTable, **request: object) -> list[str]:
    records = table.ordered(search.RECORD_ID, False, lambda: sorted(table.records.items()))
    answer = search.search(table, records, {**REQUEST, **request})
    return [row[0] for row in answer["data"]]


def test_pages_follow_every_insert_update_and_delete() -> None:
    # Scenario: a list searched page by page while records are added, changed and deleted:
    # every page reflects the records as they are at that moment (no stale ordering).
    table = ListTable(id=1, api_name="CONTACTS", name="Contacts",
                      fields=[Field("EXTERNAL_ID"), Field("MAIL")])
    first = table.insert({"EXTERNAL_ID": "C3"})
    table.insert({"EXTERNAL_ID": "C1"})
    assert _keys(table) == ["C1", "C3"]
    table.insert({"EXTERNAL_ID": "C2"})
    assert _keys(table) == ["C1", "C2", "C3"]
    table.update(first, {"EXTERNAL_ID": "C0"})
    assert _keys(table) == ["C0", "C1", "C2"]
    assert _keys(table, order_by_direction="DESC") == ["C2", "C1", "C0"]
    table.delete(first)
    assert _keys(table) == ["C1", "C2"]
    assert _keys(table, filters=[{"field_name": "EXTERNAL_ID", "operator": "EqualTo",
                                  "field_value": "C2"}]) == ["C2"]
    unchanged = table.revision
    table.update(2, {"EXTERNAL_ID": "C1"})  # the value it has: not a change
    assert table.revision == unchanged


def test_a_search_by_key_answers_what_a_scan_answers() -> None:
    # Scenario: EqualTo on a text field is looked up in the list's index (trimmed and
    # case-folded keys): the answer is exactly the scan's — case-insensitive, a stored value
    # with a trailing space not equal, other filters ANDed, a numeric field scanned, a change
    # after the index was built seen.
    table = ListTable(id=1, api_name="CONTACTS", name="Contacts",
                      fields=[Field("EXTERNAL_ID"), Field("MAIL"), Field("AGE", "Numeric")])
    table.insert({"EXTERNAL_ID": "Ab1", "MAIL": "x", "AGE": 30})
    table.insert({"EXTERNAL_ID": "ab1 ", "MAIL": "y", "AGE": 40})
    table.insert({"EXTERNAL_ID": "AB1", "MAIL": "z", "AGE": 30})

    def equal(field: str, value: str, *more: dict[str, str]) -> list[str]:
        return _keys(table, fields=["MAIL"], filters=[
            {"field_name": field, "operator": "EqualTo", "field_value": value}, *more])

    assert equal("EXTERNAL_ID", "aB1") == ["x", "z"]
    assert equal("EXTERNAL_ID", "ab1 ") == ["y"]
    assert equal("EXTERNAL_ID", "aB1", {"field_name": "MAIL", "operator": "NotEqualTo",
                                        "field_value": "x"}) == ["z"]
    assert equal("AGE", "30") == ["x", "z"]
    table.update(1, {"EXTERNAL_ID": "other"})
    assert equal("EXTERNAL_ID", "ab1") == ["z"]
    assert equal("EXTERNAL_ID", "OTHER") == ["x"]
