"""An encrypted state store on both backends: nothing readable without the key, the same
snapshots with it, clear errors for a missing or wrong key, and re-keying."""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from reconciler.state import IndexInfo, index_id, open_state_reader, open_state_store
from reconciler.state.encryption import EncryptionError, StateKey
from tests.state.conftest import StateTarget

KEY = StateKey.from_text(base64.b64encode(b"k" * 32).decode(), "TEST_KEY")
NEW = StateKey.from_text(base64.b64encode(b"n" * 32).decode(), "NEW_KEY")
MEMBERS = {f"member{i}@example.com": f"{i}" for i in range(1000)}
READ_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _batch(members: dict[str, str]) -> pa.RecordBatch:
    return pa.record_batch([pa.array(list(members)), pa.array(list(members.values()))],
                           names=["member_key", "attributes_hash"])


def _stored(state: StateTarget, key: StateKey | None) -> dict[str, str | None]:
    with open_state_reader(state.location, schema=state.schema, key=key) as reader:
        table = reader.stream_snapshot("vip").read_all()
    return dict(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))


def _raw_keys(state: StateTarget) -> list[str]:
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        rows = store._backend.query("SELECT member_key, member_key_sealed FROM snapshots")
    return [value for row in rows for value in row]


def test_an_encrypted_snapshot_holds_only_keyed_hashes_and_sealed_keys(
        state: StateTarget) -> None:
    # Scenario: apply writes a snapshot with a key; the rows hold no key; reading opens them.
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.write_snapshot("vip", [_batch(MEMBERS)])
    stored = _raw_keys(state)
    assert len(stored) == 2000 and not any("example" in value for value in stored)
    assert KEY.keyed_hash("member1@example.com") in stored
    assert _stored(state, KEY) == MEMBERS
    if not state.location.startswith("postgresql"):
        assert b"example.com" not in Path(state.location).read_bytes()


def test_a_diff_gets_plain_keys_matched_by_keyed_hash_and_opens_only_the_rest(
        state: StateTarget) -> None:
    # Scenario: the planner copies the snapshot next to a desired audience lacking 3 members.
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.write_snapshot("vip", [_batch(MEMBERS)])
    conn = duckdb.connect()
    desired = sorted(MEMBERS)[3:] + ["new@example.com"]
    conn.register("desired_view", pa.table({"member_key": desired}))
    conn.execute("CREATE TEMP TABLE desired AS SELECT * FROM desired_view")
    with open_state_reader(state.location, schema=state.schema, key=KEY) as reader:
        reader.copy_snapshot_into("vip", conn, "snap", keys_from="desired")
    rows = dict(conn.execute("SELECT member_key, attributes_hash FROM snap").fetchall())
    assert rows == MEMBERS
    assert [name for (name,) in conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'snap%'").fetchall()] \
        == ["snap"]


def test_a_missing_or_wrong_key_or_a_key_for_a_plain_store_is_a_clear_error(
        state: StateTarget) -> None:
    # Scenario: the key variable is not set, holds another key, or the store is plain.
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.write_snapshot("vip", [_batch(MEMBERS)])
    with pytest.raises(EncryptionError, match=r"is encrypted \(key id \w+\) and no key") as err:
        open_state_reader(state.location, schema=state.schema)
    assert "encryption: {key:" in (err.value.hint or "")
    with pytest.raises(EncryptionError, match=r"\$NEW_KEY holds key id"):
        open_state_store(state.location, schema=state.schema, key=NEW)
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.rekey(KEY, None)
    with pytest.raises(EncryptionError, match="not encrypted, but the project file") as err:
        open_state_reader(state.location, schema=state.schema, key=KEY)
    assert "rekey --new-key-env TEST_KEY" in (err.value.hint or "")


def test_rekey_rotates_encrypts_and_decrypts_in_one_go(state: StateTarget) -> None:
    # Scenario: plain → KEY (enable), KEY → NEW (rotate), NEW → plain (disable).
    with state.writer() as store:
        store.write_snapshot("vip", [_batch(MEMBERS)])
        assert store.rekey(None, KEY) == len(MEMBERS)
    assert _stored(state, KEY) == MEMBERS
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        with pytest.raises(EncryptionError, match=r"\$NEW_KEY holds key id"):
            store.rekey(NEW, KEY)
        assert store.rekey(KEY, NEW) == len(MEMBERS)
    with pytest.raises(EncryptionError):
        _stored(state, KEY)
    assert _stored(state, NEW) == MEMBERS
    with open_state_store(state.location, schema=state.schema, key=NEW) as store:
        store.rekey(NEW, None)
    assert _stored(state, None) == MEMBERS


def test_a_new_store_given_a_key_is_encrypted_from_its_first_write(state: StateTarget) -> None:
    # Scenario: the first plan/apply of a project with encryption configured.
    with open_state_store(state.location, schema=state.schema, key=KEY):
        pass
    with pytest.raises(EncryptionError, match="no key was given"):
        open_state_reader(state.location, schema=state.schema)


def test_two_writers_meeting_on_a_new_store_with_different_keys_agree_on_the_first(
        state: StateTarget) -> None:
    # Scenario: two matrix jobs open a fresh store, one with another key: it is refused.
    with open_state_store(state.location, schema=state.schema, key=KEY):
        pass
    with pytest.raises(EncryptionError, match=r"\$NEW_KEY holds key id"):
        open_state_store(state.location, schema=state.schema, key=NEW)
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        assert store.key == KEY


def _sealed_of(state: StateTarget) -> dict[str, str]:
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        rows = store._backend.query("SELECT member_key, member_key_sealed FROM snapshots")
    return {str(mac): str(sealed) for mac, sealed in rows}


def test_apply_reuses_what_the_plan_sealed_and_seals_only_new_members(
        state: StateTarget) -> None:
    # Scenario: plan copies the snapshot beside the audience (3 members gone, 1 new); apply
    # writes the new members from the same workspace: kept members keep their sealed keys.
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.write_snapshot("vip", [_batch(MEMBERS)])
    before = _sealed_of(state)
    conn = duckdb.connect()
    desired = {key: MEMBERS[key] for key in sorted(MEMBERS)[3:]} | {"new@example.com": "n"}
    conn.register("desired_view", pa.Table.from_batches([_batch(desired)]))
    conn.execute("CREATE TEMP TABLE desired AS SELECT * FROM desired_view")
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.copy_snapshot_into("vip", conn, "snap", keys_from="desired")
        store.write_snapshot_from_duckdb("vip", conn, "desired")
    after = _sealed_of(state)
    assert _stored(state, KEY) == desired
    kept = [mac for mac in after if mac in before]
    assert len(kept) == len(MEMBERS) - 3 and all(after[mac] == before[mac] for mac in kept)
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.write_snapshot_from_duckdb("vip", _only_x(), "m")  # no plan: all sealed
    assert _stored(state, KEY) == {"x@example.com": "1"}


def _only_x() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("CREATE TEMP TABLE m AS SELECT 'x@example.com' AS member_key, "
                 "'1' AS attributes_hash")
    return conn


def test_an_encrypted_store_keeps_no_contact_index_and_rekey_drops_one(
        state: StateTarget) -> None:
    # Scenario: a plain store holds a contact index of emails; encrypting it drops the index
    # (its keys would stay in the clear), the encrypted store neither shows nor keeps one, and
    # decrypting the store does not bring it back.
    index = index_id("selligent-prod", "list CONTACTS", "MAIL")
    info = IndexInfo(index, 0, 0, READ_AT, "full read: 1 page", 2, READ_AT)
    conn = duckdb.connect()
    conn.execute("CREATE TABLE full_read AS SELECT * FROM (VALUES "
                 "('anna@example.com', NULL::VARCHAR), ('bob@example.com', NULL)) "
                 "AS t(member_key, attributes_hash)")
    with open_state_store(state.location, schema=state.schema) as store:
        store.write_snapshot("vip", [_batch(MEMBERS)])
        store.write_contact_index(info, conn, "full_read", full=True)
        assert store.contact_index(index) is not None
        store.rekey(None, KEY)
    assert not any("example" in value for value in _raw_keys(state))
    with open_state_reader(state.location, schema=state.schema, key=KEY) as reader:
        assert reader.contact_index(index) is None
        reader.copy_contact_index_into(index, conn, "kept")
    assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    with open_state_store(state.location, schema=state.schema, key=KEY) as store:
        store.rekey(KEY, None)  # decrypted again: the dropped index does not come back
    with open_state_reader(state.location, schema=state.schema) as reader:
        assert reader.contact_index(index) is None
