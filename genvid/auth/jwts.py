"""The jwt plugin: EdDSA (Ed25519) keys in `jwks`, 15-minute tokens, verification pinned to EdDSA.

Private keys at rest: `privateKey` = `gv1:` + base64(12-byte nonce ‖ AES-256-GCM(ENCRYPTION_KEY, PKCS#8 DER)),
with the key id as associated data so a ciphertext cannot be moved to another row. better-auth writes its
own format (a JSON string of hex, XChaCha20-Poly1305 under SHA-256(secret)); genvid never tries to decrypt
a key it did not write (it signs with the newest `gv1:` key, creating one if there is none) and a
better-auth server sharing the database must not issue JWTs from a genvid key: run the jwt plugin on one
side only. Public keys of both kinds are served from /jwks and accepted when verifying.
"""
from __future__ import annotations

import base64
import json
import os
import threading
from datetime import datetime, timedelta
from typing import Any

import jwt
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import db.auth_jwks
from db import models
from genvid.auth.ids import generate_id
from genvid.auth.serialize import user_json

FORMAT_PREFIX = "gv1:"
ALGORITHM = "EdDSA"
EXPIRES_IN = timedelta(minutes=15)

_cache_lock = threading.Lock()
_public_keys: dict[str, Ed25519PublicKey] = {}
_signing_keys: dict[tuple[str, str, str], Ed25519PrivateKey] = {}   # (kid, stored form, encryption key)


class InvalidToken(Exception):
    """A JWT that is not one of ours, expired, or forged."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aead(encryption_key: str) -> AESGCM:
    return AESGCM(base64.b64decode(encryption_key))


def encrypt_private_key(key: Ed25519PrivateKey, *, kid: str, encryption_key: str) -> str:
    """The at-rest form of a private key."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = _aead(encryption_key).encrypt(nonce, der, kid.encode("utf-8"))
    return FORMAT_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_private_key(stored: str, *, kid: str, encryption_key: str) -> Ed25519PrivateKey:
    """The private key from its at-rest form (raises for another format or another ENCRYPTION_KEY)."""
    if not stored.startswith(FORMAT_PREFIX):
        raise ValueError("not a genvid private key")
    blob = base64.b64decode(stored[len(FORMAT_PREFIX):])
    der = _aead(encryption_key).decrypt(blob[:12], blob[12:], kid.encode("utf-8"))
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 key")  # noqa: TRY004 - callers treat every bad key alike
    return key


def public_jwk(row: models.Jwk) -> dict[str, Any]:
    """The JWKS entry of a key row, in better-auth's key order."""
    stored = json.loads(row.public_key)
    return {"alg": row.alg or ALGORITHM, "crv": stored.get("crv", row.crv or "Ed25519"), "x": stored["x"],
            "kty": stored.get("kty", "OKP"), "kid": row.id}


def jwks(conn: psycopg.Connection, *, encryption_key: str, now: datetime) -> dict[str, Any]:
    """`{"keys": [...]}`, creating the first key pair lazily as better-auth does."""
    rows = db.auth_jwks.list_jwks(conn)
    if not rows:
        signing_key(conn, encryption_key=encryption_key, now=now)
        rows = db.auth_jwks.list_jwks(conn)
    return {"keys": [public_jwk(row) for row in rows]}


def signing_key(conn: psycopg.Connection, *, encryption_key: str, now: datetime,
                known: tuple[str, str] | None = None) -> tuple[str, Ed25519PrivateKey]:
    """(kid, private key) of the newest genvid key, created if none exists (decrypted keys are cached).

    `known` is (kid, stored private key) when the caller already read the newest key (get-session does).
    """
    if known is None:
        row = db.auth_jwks.get_newest_genvid_jwk(conn)
        if row is None:
            return _create_key(conn, encryption_key=encryption_key, now=now)
        known = (row.id, row.private_key)
    kid, stored = known
    cache_key = (kid, stored, encryption_key)
    with _cache_lock:
        cached = _signing_keys.get(cache_key)
    if cached is None:
        cached = decrypt_private_key(stored, kid=kid, encryption_key=encryption_key)
        with _cache_lock:
            _signing_keys[cache_key] = cached
    return kid, cached


def _create_key(conn: psycopg.Connection, *, encryption_key: str, now: datetime) -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    kid = generate_id()
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = json.dumps({"crv": "Ed25519", "x": _b64url(raw_public), "kty": "OKP"}, separators=(",", ":"))
    db.auth_jwks.create_jwk(conn, id=kid, public_key=public, now=now, alg=ALGORITHM, crv="Ed25519",
                            private_key=encrypt_private_key(key, kid=kid, encryption_key=encryption_key))
    return kid, key


def issue(conn: psycopg.Connection, *, user: models.User, issuer: str, encryption_key: str,
          now: datetime, known_key: tuple[str, str] | None = None) -> str:
    """A 15-minute EdDSA JWT for user: the user object plus sub, exp, iss, aud (better-auth's claim order)."""
    kid, key = signing_key(conn, encryption_key=encryption_key, now=now, known=known_key)
    iat = int(now.timestamp())
    payload = {"iat": iat, **user_json(user), "sub": user.id, "exp": iat + int(EXPIRES_IN.total_seconds()),
               "iss": issuer, "aud": issuer}
    return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": None})


def looks_like_jwt(value: str) -> bool:
    """Three base64url segments starting with a JSON header: never a 32-character session token."""
    return value.count(".") == 2 and value.startswith("eyJ")


def verify(conn: psycopg.Connection, *, token: str, issuer: str, now: datetime) -> dict[str, Any]:
    """The claims of a valid token; InvalidToken for any other algorithm, unknown kid, bad signature, exp/iss/aud."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise InvalidToken("algorithm or key id not accepted")
    key = _public_key(conn, header["kid"])
    try:
        return _decode_at(token, key, issuer=issuer, now=now)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None


def _decode_at(token: str, key: Ed25519PublicKey, *, issuer: str, now: datetime) -> dict[str, Any]:
    """Verify signature, iss and aud with PyJWT, then exp against our clock (PyJWT reads the system clock)."""
    claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=issuer, issuer=issuer,
                        options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_exp": False,
                                 "verify_iat": False})
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
        raise jwt.ExpiredSignatureError("Signature has expired")
    return claims


def _public_key(conn: psycopg.Connection, kid: str) -> Ed25519PublicKey:
    with _cache_lock:
        cached = _public_keys.get(kid)
    if cached is not None:
        return cached
    row = db.auth_jwks.get_jwk(conn, id=kid)
    if row is None or (row.alg or ALGORITHM) != ALGORITHM:
        raise InvalidToken("unknown key")
    stored = json.loads(row.public_key)
    if stored.get("kty") != "OKP" or stored.get("crv") != "Ed25519":
        raise InvalidToken("unknown key type")
    key = Ed25519PublicKey.from_public_bytes(_b64url_decode(stored["x"]))
    with _cache_lock:
        _public_keys[kid] = key
    return key
