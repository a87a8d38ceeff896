"""JWT private keys at rest: sealed under ENCRYPTION_KEY, or exactly as better-auth seals them.

`KeySealing` is the policy. By default (JWT_KEY_ENCRYPTION=encryption_key) new keys are sealed with genvid's
AES-GCM under ENCRYPTION_KEY (genvid/sealing.py). A database shared with a better-auth server needs
JWT_KEY_ENCRYPTION=better_auth: that server signs with the newest key and can only open its own form.
Both forms are always read, so keys written under either setting keep working after a switch.

better-auth's form (`symmetricEncrypt` in better-auth/crypto): a JSON string of lowercase hex,
`24-byte nonce ‖ XChaCha20-Poly1305(ciphertext ‖ 16-byte tag)`, under the key
SHA-256(UTF-8(BETTER_AUTH_SECRET)), no associated data. XChaCha20-Poly1305 is libsodium's (through PyNaCl),
the IETF construction better-auth's @noble/ciphers implements too: for the same nonce the bytes are
better-auth's, which tests/test_keyseal_interop.py checks against better-auth's own symmetricEncrypt.
(`cryptography` has only ChaCha20-Poly1305, with its 12-byte nonce.)
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from nacl import bindings as sodium
from nacl.exceptions import CryptoError

from genvid import sealing

ENCRYPTION_KEY = "encryption_key"
BETTER_AUTH = "better_auth"
_PURPOSE = "jwks.privateKey"      # sealing.seal's associated data: this value is a JWT private key
_NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES     # 24
_TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES          # 16


def _key(secret: str) -> bytes:
    """better-auth's cipher key: SHA-256 of the secret's UTF-8 bytes."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def encrypt_hex(secret: str, plaintext: str, *, nonce: bytes | None = None) -> str:
    """better-auth's `symmetricEncrypt({key: secret, data})`: lowercase hex of nonce ‖ ciphertext ‖ tag. The
    nonce is 24 random bytes unless given (tests compare the bytes with better-auth's)."""
    nonce = os.urandom(_NONCE_BYTES) if nonce is None else nonce
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext.encode("utf-8"), None, nonce,
                                                               _key(secret))
    return (nonce + sealed).hex()


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
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise ValueError("sealed value too short")
    try:
        plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[_NONCE_BYTES:], None,
                                                                      blob[:_NONCE_BYTES], _key(secret))
    except CryptoError as exc:          # another secret, or tampering
        raise ValueError("cannot decrypt sealed value") from exc
    return plaintext.decode("utf-8")


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
