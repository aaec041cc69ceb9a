"""Which remote list a snapshot describes: recorded with it, and taken over by migration 8."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

from reconciler.state import LATEST_VERSION, ActivationRecord, RemoteList
from tests.state.conftest import StateTarget
from tests.state.test_store import _execute

T0 = dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC)
VIP = RemoteList("selligent-prod", "org ACME, list CONTACTS", "VIP_customers", "VIP_customers")


def _rows(*keys: str) -> list[pa.RecordBatch]:
    return [pa.record_batch([pa.array(list(keys), pa.string()),
                             pa.array([None] * len(keys), pa.string())],
                            names=["member_key", "attributes_hash"])]


def test_a_snapshot_records_the_list_it_describes(state: StateTarget) -> None:
    # Scenario: an apply writes the snapshot of a segment, then of its renamed successor.
    with state.writer() as store:
        store.write_snapshot("vip", _rows("a", "b"), remote=VIP)
        renamed = RemoteList("selligent-prod", VIP.target, "VIP_2027", None)
        store.write_snapshot("vip", _rows("a"), remote=renamed)
    with state.reader() as reader:
        info = reader.snapshot_info("vip")
        assert info is not None and info.members == 1
        assert info.remote == renamed and info.members_known


def test_an_imported_snapshot_may_say_its_members_are_unknown(state: StateTarget) -> None:
    # Scenario: an Actito list is imported: ownership without members.
    actito = RemoteList("actito-prod", "entity acme, table Profiles", "VIP customers", "41")
    with state.writer() as store:
        store.write_snapshot("vip", _rows(), remote=actito, members_known=False)
    with state.reader() as reader:
        info = reader.snapshot_info("vip")
        assert info is not None and info.remote == actito and not info.members_known


def test_migration_8_takes_the_list_of_existing_snapshots_from_their_record(
        state: StateTarget) -> None:
    # Scenario: a store written by version 7 holds a snapshot and what it was applied to; the
    # migration says which list the snapshot describes (its id stays unknown).
    with state.writer(migrate_to=7) as old:
        old.record_activation(ActivationRecord("vip", VIP.destination, "selligent", VIP.target,
                                               VIP.name, "keep", T0))
    _execute(state, "INSERT INTO snapshots VALUES ('vip', 'a', NULL), ('orphan', 'b', NULL)")
    # `orphan`: killed before its record was written.
    _execute(state, "INSERT INTO snapshot_info VALUES ('vip', 1, now(), 2, 'f'), "
                    "('orphan', 1, now(), 1, 'f')")
    with state.writer() as store:
        assert store.schema_version() == LATEST_VERSION >= 8
    with state.reader() as reader:
        info = reader.snapshot_info("vip")
        assert info is not None and info.members == 1 and info.members_known
        assert info.remote == RemoteList(VIP.destination, VIP.target, VIP.name, None)
        orphan = reader.snapshot_info("orphan")
        assert orphan is not None and orphan.remote is None
