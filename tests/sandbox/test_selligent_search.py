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
