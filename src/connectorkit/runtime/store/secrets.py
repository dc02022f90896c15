"""Secrets at rest: the store key, AES-GCM sealing of connection secrets, and redaction.

The key is 32 random bytes, written as URL-safe base64 (the same text form as a Fernet key). It
comes from ``CONNECTORKIT_SECRET_KEY`` or from a key file created on first use with mode 0600.
Each sealed value is bound to its row and field (AES-GCM associated data), so a ciphertext copied
into another connection's row does not decrypt there.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets as _random
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.secrets_text import MASK, redact, redact_json, secret_strings

__all__ = [
    "KEY_ENV",
    "KEY_FILE_NAME",
    "MASK",
    "SecretBox",
    "SecretKeyError",
    "generate_key",
    "load_key_file",
    "parse_key",
    "redact",
    "redact_json",
    "resolve_key",
    "secret_strings",
]
"""Redaction lives in :mod:`connectorkit.secrets_text` (shared with ``cloud``); re-exported here."""

KEY_ENV = "CONNECTORKIT_SECRET_KEY"
KEY_FILE_NAME = "secret.key"

_FORMAT = b"\x01"
_NONCE_BYTES = 12
_KEY_HINT = "32 random bytes in URL-safe base64; create one with `python -c 'import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`"


class SecretKeyError(ConnectorkitError):
    """The store key cannot open the secrets in the database."""

    def __init__(self) -> None:
        super().__init__("cannot decrypt connection secrets: wrong CONNECTORKIT_SECRET_KEY or key file")


def generate_key() -> bytes:
    """A new key in its text form (URL-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(_random.token_bytes(32))


def parse_key(value: bytes | str, source: str) -> bytes:
    """The 32 raw key bytes from raw bytes or their URL-safe base64 text; ``source`` names where
    the value came from for the error message (the value itself is never shown)."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    if isinstance(value, bytes) and len(raw) == 32:
        return raw  # raw key bytes; the text form of a 32-byte key is 44 characters long
    text = raw.strip()
    try:
        decoded = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32:
        raise InputError(f"{source} is not a valid store key: expected {_KEY_HINT}")
    return decoded


def load_key_file(path: Path) -> bytes:
    """Read the key file at ``path``, creating it with mode 0600 when it does not exist yet.

    An existing file that group or others may read is refused (on POSIX): a key anyone can read
    protects nothing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise InputError(f"{path}: key file is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    try:
        content = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read the key file: {error.strerror}") from None
    return parse_key(content.strip(), f"key file {path}")


def resolve_key(key_file: Path, environ: dict[str, str] | None = None) -> bytes:
    """The store key: ``CONNECTORKIT_SECRET_KEY`` when set, else the key file (created if missing)."""
    env = os.environ if environ is None else environ
    value = env.get(KEY_ENV)
    if value:
        return parse_key(value, KEY_ENV)
    return load_key_file(key_file)


class SecretBox:
    """Seals and opens JSON values with AES-256-GCM; ``context`` binds a value to its place."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise InputError(f"the store key must be 32 bytes, got {len(key)}")
        self._aead = AESGCM(key)

    def seal(self, value: Any, context: str) -> bytes:
        nonce = _random.token_bytes(_NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return _FORMAT + nonce + self._aead.encrypt(nonce, plain, context.encode())

    def open(self, blob: bytes, context: str) -> Any:
        if not blob.startswith(_FORMAT) or len(blob) < 1 + _NONCE_BYTES + 16:
            raise SecretKeyError()
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, sealed, context.encode())
        except InvalidTag:
            raise SecretKeyError() from None
        return json.loads(plain)

    def __repr__(self) -> str:
        return f"SecretBox(key={MASK})"
