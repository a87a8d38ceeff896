"""JWT private keys at rest: sealed under ENCRYPTION_KEY, or exactly as better-auth seals them.

`KeySealing` is the policy. By default (JWT_KEY_ENCRYPTION=encryption_key) new keys are sealed with genvid's
AES-GCM under ENCRYPTION_KEY (genvid/sealing.py). A database shared with a better-auth server needs
JWT_KEY_ENCRYPTION=better_auth: that server signs with the newest key and can only open its own form.
Both forms are always read, so keys written under either setting keep working after a switch.

better-auth's form (`symmetricEncrypt` in better-auth/crypto): a JSON string of lowercase hex,
`24-byte nonce ‖ XChaCha20-Poly1305(ciphertext ‖ 16-byte tag)`, under the key
SHA-256(UTF-8(BETTER_AUTH_SECRET)), no associated data.

`cryptography` offers ChaCha20-Poly1305 (12-byte nonce) but not the extended-nonce variant, so the
XChaCha20 subkey is derived here with HChaCha20 (draft-irtf-cfrg-xchacha, section 2.2).
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from genvid import sealing

ENCRYPTION_KEY = "encryption_key"
BETTER_AUTH = "better_auth"
_PURPOSE = "jwks.privateKey"      # sealing.seal's associated data: this value is a JWT private key

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


def encrypt_hex(secret: str, plaintext: str) -> str:
    """better-auth's `symmetricEncrypt({key: secret, data})`: lowercase hex of nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(24)
    aead, inner_nonce = _aead(secret, nonce)
    return (nonce + aead.encrypt(inner_nonce, plaintext.encode("utf-8"), None)).hex()


def decrypt_hex(secret: str, hex_value: str) -> str:
    """better-auth's `symmetricDecrypt`; ValueError for another format, secret or a tampered value."""
    try:
        blob = bytes.fromhex(hex_value)
    except (TypeError, ValueError):
        raise ValueError("not a better-auth sealed value") from None
    return _open(secret, blob)


def purpose_key(secret: str, purpose: str) -> str:
    """better-auth's `derivePurposeKey(secret, purpose)`: an HKDF-SHA256 subkey, as hex, used as a secret."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"better-auth:oauth-encryption:v1",
                   info=f"better-auth:{purpose}:v1".encode()).derive(secret.encode("utf-8"))
    return derived.hex()


def seal(secret: str, plaintext: str) -> str:
    """The stored form (a JSON string) of plaintext, as better-auth writes `jwks.privateKey`."""
    return json.dumps(encrypt_hex(secret, plaintext))


def unseal(secret: str, stored: str) -> str:
    """The plaintext of a stored value; raises ValueError for another format, secret or a tampered value."""
    try:
        blob = bytes.fromhex(json.loads(stored))
    except (TypeError, ValueError):
        raise ValueError("not a better-auth sealed value") from None
    return _open(secret, blob)


def _open(secret: str, blob: bytes) -> str:
    if len(blob) < 24 + 16:
        raise ValueError("sealed value too short")
    aead, inner_nonce = _aead(secret, blob[:24])
    try:
        return aead.decrypt(inner_nonce, blob[24:], None).decode("utf-8")
    except Exception as exc:   # InvalidTag: another secret, or tampering
        raise ValueError("cannot decrypt sealed value") from exc


@dataclass(frozen=True)
class KeySealing:
    """How this process seals new JWT private keys, and opens a stored one of either form."""

    writes: str                                          # ENCRYPTION_KEY or BETTER_AUTH
    better_auth_secret: str = field(repr=False)
    encryption_key: str = field(repr=False)

    def seal(self, plaintext: str) -> str:
        if self.writes == BETTER_AUTH:
            return seal(self.better_auth_secret, plaintext)
        return sealing.seal(plaintext, encryption_key=self.encryption_key, purpose=_PURPOSE)

    def unseal(self, stored: str) -> str:
        """The plaintext; ValueError when the value does not open (another secret or key, or tampering)."""
        if stored.startswith(sealing.FORMAT_PREFIX):
            return sealing.unseal(stored, encryption_key=self.encryption_key, purpose=_PURPOSE)
        return unseal(self.better_auth_secret, stored)

    def is_written_form(self, stored: str) -> bool:
        """Whether stored is in the form this policy writes (a key in the other form gets rotated out)."""
        return stored.startswith(sealing.FORMAT_PREFIX) == (self.writes == ENCRYPTION_KEY)
