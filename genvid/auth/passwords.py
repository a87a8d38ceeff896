"""Password hashing: bcrypt by default, better-auth's scrypt on request; both always verify.

Formats stored in `account.password`:

* `$gv1$<bcrypt>`: genvid's bcrypt, version 1. bcrypt reads at most 72 bytes (bcrypt 5 refuses more), so the
  password is pre-hashed: `bcrypt(base64(SHA-256(UTF-8(NFKC(password)))))`. Every one of up to 128
  characters counts; base64 keeps NUL bytes out of bcrypt's C string. No key is mixed in, so rotating
  BETTER_AUTH_SECRET never locks anyone out.
* `$2a$` / `$2b$` / `$2y$`: a plain bcrypt of the UTF-8 password (what other tools write); verified only.
* `<32 hex salt>:<128 hex key>`: better-auth's scrypt (N=16384, r=16, p=1, dkLen=64, the salt's hex text
  itself is the salt), written when PASSWORD_HASH=scrypt. A database shared with a better-auth server needs
  it: better-auth answers 500 on sign-in for any other format.

A successful sign-in rehashes when the stored format or bcrypt cost differs from the configuration.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata

import bcrypt

GV1_PREFIX = "$gv1$"
_SCRYPT = re.compile(r"^([0-9a-f]{32}):([0-9a-f]{128})$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN = 16384, 16, 1, 64
_SCRYPT_MAXMEM = 128 * _SCRYPT_N * _SCRYPT_R * 2
_PLAIN_BCRYPT_MAX_BYTES = 72

_dummy_lock = threading.Lock()
_dummy_hashes: dict[tuple[str, int], str] = {}


def _normalize(password: str) -> bytes:
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(_normalize(password)).digest())


def _scrypt_key(password: str, salt_hex: str) -> str:
    return hashlib.scrypt(_normalize(password), salt=salt_hex.encode("ascii"), n=_SCRYPT_N, r=_SCRYPT_R,
                          p=_SCRYPT_P, dklen=_SCRYPT_DKLEN, maxmem=_SCRYPT_MAXMEM).hex()


def hash_password(password: str, *, algorithm: str, bcrypt_rounds: int) -> str:
    """A new hash of password in the configured format ("bcrypt" or "scrypt")."""
    if algorithm == "scrypt":
        salt_hex = secrets.token_bytes(16).hex()
        return f"{salt_hex}:{_scrypt_key(password, salt_hex)}"
    hashed = bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=bcrypt_rounds))
    return GV1_PREFIX + hashed.decode("ascii")


def verify_password(password: str, stored: str | None) -> bool:
    """True when password matches stored (any supported format); False for unknown formats or None."""
    if not stored:
        return False
    if stored.startswith(GV1_PREFIX):
        return _bcrypt_check(_prehash(password), stored[len(GV1_PREFIX):])
    if stored.startswith(("$2a$", "$2b$", "$2y$")):
        raw = password.encode("utf-8")
        return len(raw) <= _PLAIN_BCRYPT_MAX_BYTES and _bcrypt_check(raw, stored)
    match = _SCRYPT.match(stored)
    if match:
        return hmac.compare_digest(_scrypt_key(password, match.group(1)), match.group(2))
    return False


def _bcrypt_check(secret: bytes, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(secret, hashed.encode("ascii"))
    except ValueError:       # a malformed stored hash is a mismatch, not a crash
        return False


def needs_rehash(stored: str, *, algorithm: str, bcrypt_rounds: int) -> bool:
    """True when stored is not in the configured format (or bcrypt at another cost)."""
    if algorithm == "scrypt":
        return _SCRYPT.match(stored) is None
    if not stored.startswith(GV1_PREFIX):
        return True
    try:
        return int(stored[len(GV1_PREFIX):].split("$")[2]) != bcrypt_rounds
    except (IndexError, ValueError):
        return True


def burn_equivalent_work(password: str, *, algorithm: str, bcrypt_rounds: int) -> None:
    """Verify against a dummy hash of the configured kind,
    so an unknown email costs what a wrong password costs."""
    key = (algorithm, bcrypt_rounds)
    with _dummy_lock:
        dummy = _dummy_hashes.get(key)
    if dummy is None:
        dummy = hash_password(secrets.token_urlsafe(16), algorithm=algorithm, bcrypt_rounds=bcrypt_rounds)
        with _dummy_lock:
            _dummy_hashes.setdefault(key, dummy)
    verify_password(password, dummy)
