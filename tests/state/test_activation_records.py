"""What each activation was applied to, recorded for acting on it once removed from git."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

from reconciler.state import ActivationRecord, RemoteKind, RunStatus
from tests.state.conftest import StateTarget

T0 = dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC)


def _record(policy: str = "keep") -> ActivationRecord:
    return ActivationRecord("vip", "selligent-prod", "selligent", "org ACME, list CONTACTS",
                            "VIP_customers", policy, T0)


def test_records_are_replaced_per_activation_and_bump_the_serial(state: StateTarget) -> None:
    # Scenario: two applies record the activation, the second with deletionPolicy: delete.
    with state.writer() as store:
        assert store.record_activation(_record()) == 1
        assert store.record_activation(_record("delete")) == 2
    with state.reader() as reader:
        assert reader.activation_records() == (_record("delete"),)


def test_forgetting_drops_the_state_but_keeps_the_run_history(state: StateTarget) -> None:
    # Scenario: after its segment is deleted, a removed activation's state is dropped.
    with state.writer() as store:
        store.set_remote_id("vip", RemoteKind.SEGMENT, "VIP_customers")
        store.write_snapshot("vip", [pa.record_batch(
            [pa.array(["a"]), pa.array(["h"])], names=["member_key", "attributes_hash"])])
        store.record_activation(_record("delete"))
        run = store.start_run("vip")
        store.finish_run(run, RunStatus.SUCCEEDED)
        store.record_activation(ActivationRecord("other", "selligent-prod", "selligent", "t",
                                                 "Other", "keep", T0))
        store.forget_activation("vip")
    with state.reader() as reader:
        assert [r.activation for r in reader.activation_records()] == ["other"]
        assert reader.activations() == ("other",) and reader.serial("vip") == 0
        assert reader.remote_ids("vip") == () and reader.snapshot_info("vip") is None
        assert [r.run_id for r in reader.runs("vip")] == [run]


def test_a_schema_3_store_gains_the_records_table(state: StateTarget) -> None:
    # Scenario: a store written before records existed is opened for an apply.
    with state.writer(migrate_to=3) as old:
        old.start_run("vip")
    with state.writer() as store:
        assert store.activation_records() == ()
        store.record_activation(_record())
        assert len(store.runs("vip")) == 1
