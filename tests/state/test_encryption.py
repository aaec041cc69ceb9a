"""The encryption primitives: the key, keyed hashes, sealed values and sealed files."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from reconciler.state.encryption import (
    CHUNK_BYTES,
    FILE_MAGIC,
    EncryptionError,
    StateKey,
    open_file,
    seal_file,
)

KEY_TEXT = base64.b64encode(bytes(range(32))).decode()
PLAN = Path("plan.bin")
OTHER_TEXT = base64.b64encode(bytes(range(1, 33))).decode()


def _key(text: str = KEY_TEXT, env: str = "TEST_STATE_KEY") -> StateKey:
    return StateKey.from_text(text, env)


def test_a_key_comes_from_its_variable_and_a_missing_or_malformed_one_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: the project names $TEST_STATE_KEY; unset, then not base64, then 16 bytes.
    monkeypatch.delenv("TEST_STATE_KEY", raising=False)
    with pytest.raises(EncryptionError, match=r"\$TEST_STATE_KEY \(named by here\) is not set"):
        StateKey.from_env("TEST_STATE_KEY", "here")
    for bad in ("not base64!", base64.b64encode(b"short" * 3).decode()):
        monkeypatch.setenv("TEST_STATE_KEY", bad)
        with pytest.raises(EncryptionError, match="32 random bytes written as base64") as caught:
            StateKey.from_env("TEST_STATE_KEY")
        assert bad not in str(caught.value)
    monkeypatch.setenv("TEST_STATE_KEY", KEY_TEXT)
    key = StateKey.from_env("TEST_STATE_KEY")
    assert key.key_id == _key().key_id != _key(OTHER_TEXT).key_id
    assert KEY_TEXT not in repr(key) and len(key.key_id) == 16


def test_keyed_hashes_are_hmac_sha256_the_same_in_python_and_duckdb() -> None:
    # Scenario: the diff hashes desired keys in DuckDB; the writer may hash them either way.
    key, texts = _key(), ["a@example.com", "+32470000000", "é ü 💡", ""]
    expression, params = key.keyed_hash_sql("k")
    conn = duckdb.connect()
    conn.register("t", pa.table({"k": texts}))
    in_sql = [row[0] for row in conn.execute(f"SELECT {expression} FROM t", params).fetchall()]
    assert in_sql == [key.keyed_hash(text) for text in texts]
    assert key.keyed_hash("a") == key.keyed_hash("a") != _key(OTHER_TEXT).keyed_hash("a")
    mac_key = key._mac_key  # derived from the key, never the key itself
    assert key.keyed_hash("a") == hmac.new(mac_key, b"a", hashlib.sha256).hexdigest()[:32]
    assert mac_key != key.secret


def test_sealed_values_open_with_their_key_and_context_only() -> None:
    # Scenario: a sealed member key round-trips; another key, another row or a flipped bit fail.
    key = _key()
    texts, contexts = pa.array(["a@example.com", "b@example.com"]), pa.array(["h1", "h2"])
    sealed = key.seal_texts(texts, contexts)
    assert "example" not in "".join(sealed.to_pylist())
    assert key.open_texts(sealed, contexts).to_pylist() == texts.to_pylist()
    assert sealed.to_pylist() != key.seal_texts(texts, contexts).to_pylist()  # random nonces
    with pytest.raises(EncryptionError, match="wrong key, or the state was altered"):
        _key(OTHER_TEXT).open_texts(sealed, contexts)
    with pytest.raises(EncryptionError):
        key.open_texts(sealed, pa.array(["h2", "h1"]))
    raw = bytearray(base64.b64decode(sealed[0].as_py()))
    raw[-1] ^= 1
    with pytest.raises(EncryptionError):
        key.open_texts(pa.array([base64.b64encode(raw).decode()]), pa.array(["h1"]))
    assert key.open(key.seal(b"x", b"c"), b"c") == b"x"


@pytest.mark.parametrize("size", [0, 10, CHUNK_BYTES, CHUNK_BYTES * 2 + 5])
def test_a_sealed_file_opens_whole_with_its_key(size: int) -> None:
    # Scenario: saved plans of any size (empty, one chunk, exactly one chunk, three chunks).
    plain = bytes(range(256)) * (size // 256) + b"k" * (size % 256)
    sealed = io.BytesIO()
    seal_file(io.BytesIO(plain), sealed, _key())
    data = sealed.getvalue()
    assert data.startswith(FILE_MAGIC) and b"TEST_STATE_KEY" in data
    source, opened = io.BytesIO(data), io.BytesIO()
    source.read(len(FILE_MAGIC))
    open_file(source, opened, _key(), PLAN)
    assert opened.getvalue() == plain


def test_a_sealed_file_refuses_another_key_and_any_change() -> None:
    # Scenario: wrong key (named by id), a flipped byte, a file cut at a chunk boundary.
    sealed = io.BytesIO()
    seal_file(io.BytesIO(b"p" * (CHUNK_BYTES + 3)), sealed, _key())
    data = sealed.getvalue()

    def opening(blob: bytes, key: StateKey) -> None:
        source = io.BytesIO(blob)
        source.read(len(FILE_MAGIC))
        open_file(source, io.BytesIO(), key, PLAN)

    with pytest.raises(EncryptionError, match=r"sealed with key id \w+; \$OTHER holds key id"):
        opening(data, _key(OTHER_TEXT, "OTHER"))
    flipped = bytearray(data)
    flipped[-5] ^= 1
    with pytest.raises(EncryptionError, match="altered or cut short"):
        opening(bytes(flipped), _key())
    with pytest.raises(EncryptionError, match="altered or cut short"):
        opening(data[:-(3 + 16)], _key())
