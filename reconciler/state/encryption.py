"""Encryption at rest of the state store and of saved plans: the key and the primitives.

Owns the user's key (32 random bytes as base64, read from an environment variable the project
file names), the keys derived from it with HKDF-SHA256 (one seals member keys with
AES-256-GCM, one makes the keyed hashes, HMAC-SHA256, that a diff joins on, one seals plan
files), its key id (a public fingerprint, recorded in the store and in a sealed file's
header), sealing of single values and Arrow columns, the keyed hash as a DuckDB SQL expression
(vectorised: no Python call per member), and whole files sealed in chunks.

Must not print or log a key, a member key or a value: errors name the variable and the file,
never what it holds. Which key a store location uses is said once, by the CLI resolving the
project file (`configure_key`), and found by every opening of that location (`configured_key`).
"""
from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from reconciler.errors import ReconcilerError

KEY_BYTES = 32
NONCE_BYTES = 12
ALGORITHM = "AES-256-GCM+HMAC-SHA256 (HKDF-SHA256), v1"
NEW_KEY_HINT = ("make one with `openssl rand -base64 32` (or python -c \"import base64, os; "
                "print(base64.b64encode(os.urandom(32)).decode())\") and keep it in a secret "
                "store, never in a committed file")
FILE_MAGIC = b"RECONCILER-SEALED\n"
FILE_FORMAT = 1
CHUNK_BYTES = 4 << 20
HASH_HEX = 32
_BLOCK = 64  # SHA-256's block size, for HMAC's pads


class EncryptionError(ReconcilerError):
    """A key is missing, malformed or not the one the data was sealed with, or sealed data
    was altered."""


@dataclass(frozen=True)
class StateKey:
    """The user's key and what is derived from it; `env` names the variable it came from."""

    secret: bytes = field(repr=False)
    env: str

    @classmethod
    def from_env(cls, env: str, origin: str = "") -> StateKey:
        """The key held by environment variable `env` (named at `origin`, for errors)."""
        at = f" (named by {origin})" if origin else ""
        text = os.environ.get(env, "").strip()
        if not text:
            raise EncryptionError(f"the encryption key variable ${env}{at} is not set",
                                  hint=f"set it to the project's key; for a new key, "
                                       f"{NEW_KEY_HINT}")
        return cls.from_text(text, env, at)

    @classmethod
    def from_text(cls, text: str, env: str, at: str = "") -> StateKey:
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != KEY_BYTES:
            raise EncryptionError(
                f"${env}{at} is not an encryption key: it must be {KEY_BYTES} random bytes "
                "written as base64 (44 characters)", hint=NEW_KEY_HINT)
        return cls(secret, env)

    @functools.cached_property
    def key_id(self) -> str:
        """A public fingerprint of the key (16 hex digits): says which key, reveals nothing."""
        return _derive(self.secret, b"key id").hex()[:16]

    @functools.cached_property
    def _mac_key(self) -> bytes:
        return _derive(self.secret, b"member key hash")

    @functools.cached_property
    def _seal(self) -> AESGCM:
        return AESGCM(_derive(self.secret, b"member key seal"))

    @functools.cached_property
    def _file(self) -> AESGCM:
        return AESGCM(_derive(self.secret, b"file seal"))

    def keyed_hash(self, text: str) -> str:
        """HMAC-SHA256 of `text` (UTF-8), its first 128 bits as 32 hex digits (no collision
        to fear among billions of members): equal texts, equal hashes."""
        return hmac.new(self._mac_key, text.encode(), "sha256").hexdigest()[:HASH_HEX]

    def keyed_hash_sql(self, column: str) -> tuple[str, dict[str, bytes]]:
        """A DuckDB expression computing `keyed_hash` of VARCHAR `column`, and its named
        parameters (the pads travel as parameters: never in SQL text an error could show)."""
        pad = self._mac_key.ljust(_BLOCK, b"\0")
        params = {"mac_inner": bytes(b ^ 0x36 for b in pad),
                  "mac_outer": bytes(b ^ 0x5C for b in pad)}
        inner = f"unhex(sha256($mac_inner || encode(CAST({column} AS VARCHAR))))"
        return f"left(sha256($mac_outer || {inner}), {HASH_HEX})", params

    def seal(self, plain: bytes, context: bytes) -> bytes:
        """AES-GCM: nonce + ciphertext + tag; `context` must be given again to open it."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._seal.encrypt(nonce, plain, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        try:
            return self._seal.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
        except (InvalidTag, ValueError) as exc:
            raise EncryptionError(
                f"a sealed value does not open with the key of ${self.env} (key id "
                f"{self.key_id}): the wrong key, or the data was altered") from exc

    def seal_texts(self, texts: pa.Array, contexts: pa.Array) -> pa.Array:
        """Seal each string of `texts` (base64 of nonce + ciphertext + tag), bound to the
        same row of `contexts` (its keyed hash: a sealed value moved to another row fails)."""
        nonces = os.urandom(NONCE_BYTES * len(texts))
        aead = self._seal
        out = []
        for i, (text, context) in enumerate(zip(texts.to_pylist(), contexts.to_pylist(),
                                                strict=True)):
            nonce = nonces[i * NONCE_BYTES:(i + 1) * NONCE_BYTES]
            sealed = nonce + aead.encrypt(nonce, text.encode(), context.encode())
            out.append(base64.b64encode(sealed).decode())
        return pa.array(out, pa.string())

    def open_texts(self, sealed: pa.Array, contexts: pa.Array) -> pa.Array:
        """The strings `seal_texts` sealed."""
        aead = self._seal
        out = []
        try:
            for value, context in zip(sealed.to_pylist(), contexts.to_pylist(), strict=True):
                raw = base64.b64decode(value)
                out.append(aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                        context.encode()).decode())
        except (InvalidTag, ValueError, TypeError) as exc:
            raise EncryptionError(
                f"a sealed member key does not open with the key of ${self.env} (key id "
                f"{self.key_id}): the wrong key, or the state was altered") from exc
        return pa.array(out, pa.string())


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=b"audience-reconciler v1 " + purpose).derive(secret)


# -- files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileHeader:
    key_id: str
    env: str


def is_sealed_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(FILE_MAGIC)) == FILE_MAGIC


def read_header(handle: BinaryIO, path: Path) -> tuple[FileHeader, bytes]:
    """A sealed file's header (after its magic) and its bytes (bound to every chunk)."""
    line = handle.readline(4096)
    try:
        meta = json.loads(line)
        header = FileHeader(str(meta["key_id"]), str(meta["env"]))
        if meta["format"] != FILE_FORMAT:
            raise ValueError(meta["format"])
    except (ValueError, KeyError, TypeError) as exc:
        raise EncryptionError(f"{path} is sealed in a format this version cannot read") from exc
    return header, line


def seal_file(source: BinaryIO, target: BinaryIO, key: StateKey) -> None:
    """Write `source` to `target` sealed: magic, a JSON header line (format, key id, the
    key's variable), then AES-GCM chunks whose nonces count them and mark the last."""
    header = json.dumps({"format": FILE_FORMAT, "key_id": key.key_id, "env": key.env}).encode()
    header += b"\n"
    prefix = os.urandom(NONCE_BYTES - 5)
    target.write(FILE_MAGIC + header + prefix)
    chunk, number = source.read(CHUNK_BYTES), 0
    while True:
        following = source.read(CHUNK_BYTES)
        nonce = prefix + struct.pack(">IB", number, 0 if following else 1)
        target.write(key._file.encrypt(nonce, chunk, header))
        if not following:
            return
        chunk, number = following, number + 1


def open_file(source: BinaryIO, target: BinaryIO, key: StateKey, path: Path) -> None:
    """Write the plain content of sealed `source` (its magic read already) to `target`;
    an `EncryptionError` naming `path` when the key is not the one it was sealed with or
    the file was altered or cut short."""
    header, raw = read_header(source, path)
    if header.key_id != key.key_id:
        raise EncryptionError(
            f"{path} was sealed with key id {header.key_id}; ${key.env} holds key id "
            f"{key.key_id}", hint=f"set ${key.env} to the key the file was made with")
    prefix = source.read(NONCE_BYTES - 5)
    for number, (chunk, last) in enumerate(_chunks(source)):
        nonce = prefix + struct.pack(">IB", number, 1 if last else 0)
        try:
            target.write(key._file.decrypt(nonce, chunk, raw))
        except InvalidTag as exc:
            raise EncryptionError(f"{path} does not open with the key of ${key.env}: it was "
                                  "altered or cut short") from exc


def _chunks(source: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    size = CHUNK_BYTES + 16
    chunk = source.read(size)
    while True:
        following = source.read(size)
        yield chunk, not following
        if not following:
            return
        chunk = following


# -- which key a location uses -----------------------------------------------------------

_configured: dict[str, StateKey | None] = {}


def configure_key(location: str | Path | None, key: StateKey | None) -> None:
    """Say which key (None: none) the store at `location` is opened with from now on."""
    _configured[_normal(location)] = key


def configured_key(location: str | Path | None) -> StateKey | None:
    return _configured.get(_normal(location))


def _normal(location: str | Path | None) -> str:
    return "" if location is None else str(location)
