"""better-auth's at-rest encryption of JWT private keys (`symmetricEncrypt` in better-auth/crypto).

Stored form: a JSON string of lowercase hex, `24-byte nonce ‖ XChaCha20-Poly1305(ciphertext ‖ 16-byte tag)`,
under the key SHA-256(UTF-8(BETTER_AUTH_SECRET)), no associated data. genvid writes and reads exactly this,
so a better-auth server sharing the database signs with genvid's keys and genvid with its keys.

`cryptography` offers ChaCha20-Poly1305 (12-byte nonce) but not the extended-nonce variant, so the
XChaCha20 subkey is derived here with HChaCha20 (draft-irtf-cfrg-xchacha, section 2.2).
"""
from __future__ import annotations

import hashlib
import json
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

_CONSTANTS = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)   # "expand 32-byte k"
_MASK = 0xFFFFFFFF


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) & _MASK) | (value >> (32 - shift))


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 7)


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """The 32-byte XChaCha20 subkey for key and the first 16 bytes of the 24-byte nonce."""
    state = [*_CONSTANTS, *struct.unpack("<8I", key), *struct.unpack("<4I", nonce16)]
    for _ in range(10):
        _quarter_round(state, 0, 4, 8, 12)
        _quarter_round(state, 1, 5, 9, 13)
        _quarter_round(state, 2, 6, 10, 14)
        _quarter_round(state, 3, 7, 11, 15)
        _quarter_round(state, 0, 5, 10, 15)
        _quarter_round(state, 1, 6, 11, 12)
        _quarter_round(state, 2, 7, 8, 13)
        _quarter_round(state, 3, 4, 9, 14)
    return struct.pack("<8I", *state[0:4], *state[12:16])


def _aead(secret: str, nonce: bytes) -> tuple[ChaCha20Poly1305, bytes]:
    key = hashlib.sha256(secret.encode("utf-8")).digest()
    return ChaCha20Poly1305(hchacha20(key, nonce[:16])), b"\0\0\0\0" + nonce[16:]


def seal(secret: str, plaintext: str) -> str:
    """The stored form (a JSON string) of plaintext, as better-auth writes `jwks.privateKey`."""
    nonce = os.urandom(24)
    aead, inner_nonce = _aead(secret, nonce)
    return json.dumps((nonce + aead.encrypt(inner_nonce, plaintext.encode("utf-8"), None)).hex())


def unseal(secret: str, stored: str) -> str:
    """The plaintext of a stored value; raises ValueError for another format, secret or a tampered value."""
    try:
        blob = bytes.fromhex(json.loads(stored))
    except (TypeError, ValueError):
        raise ValueError("not a better-auth sealed value") from None
    if len(blob) < 24 + 16:
        raise ValueError("sealed value too short")
    aead, inner_nonce = _aead(secret, blob[:24])
    try:
        return aead.decrypt(inner_nonce, blob[24:], None).decode("utf-8")
    except Exception as exc:   # InvalidTag: another secret, or tampering
        raise ValueError("cannot decrypt sealed value") from exc
