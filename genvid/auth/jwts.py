"""The jwt plugin: EdDSA (Ed25519) keys in `jwks`, 15-minute tokens, verification pinned to EdDSA.

Keys are stored in better-auth's jwks table as its jwt plugin stores them (public JWK as JSON, private JWK
sealed: under ENCRYPTION_KEY by default, or in better-auth's own form with JWT_KEY_ENCRYPTION=better_auth,
see keyseal.py), and the signing key is chosen as it chooses it: the newest unexpired EdDSA key. So genvid
and a better-auth server on one database share one key set, and a JWT from either verifies against the
/jwks of both.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import jwt
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

import db.auth_jwks
from db import models
from genvid.auth import keyseal
from genvid.auth.ids import generate_id
from genvid.auth.serialize import user_json

log = logging.getLogger("genvid.auth.jwts")
ALGORITHM = "EdDSA"
EXPIRES_IN = timedelta(minutes=15)

_cache_lock = threading.Lock()
_public_keys: dict[str, Ed25519PublicKey] = {}


class StoredKey(NamedTuple):
    """A signing key as its jwks row holds it: the id and the sealed private JWK."""

    kid: str
    sealed: str


# Opened once per process.
_signing_keys: dict[tuple[StoredKey, keyseal.KeySealing], Ed25519PrivateKey] = {}


class InvalidToken(Exception):
    """A JWT that is not one of ours, expired, or forged."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal_private_key(key: Ed25519PrivateKey, *, sealing: keyseal.KeySealing) -> str:
    """The at-rest form of a private key: its private JWK (key order as jose exports it), sealed."""
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "d": _b64url(raw), "x": _b64url(public), "kty": "OKP"}
    return sealing.seal(json.dumps(jwk, separators=(",", ":")))


def unseal_private_key(stored: str, *, sealing: keyseal.KeySealing) -> Ed25519PrivateKey:
    """The private key from its at-rest form (ValueError for another format, secret or key, or tampering)."""
    jwk = json.loads(sealing.unseal(stored))
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 private JWK")
    return Ed25519PrivateKey.from_private_bytes(_b64url_decode(jwk["d"]))


def public_jwk(row: models.Jwk) -> dict[str, Any]:
    """The JWKS entry of a key row, in better-auth's key order."""
    stored = json.loads(row.public_key)
    return {"alg": row.alg or ALGORITHM, "crv": stored.get("crv", row.crv or "Ed25519"), "x": stored["x"],
            "kty": stored.get("kty", "OKP"), "kid": row.id}


def jwks(conn: psycopg.Connection, *, sealing: keyseal.KeySealing, now: datetime) -> dict[str, Any]:
    """`{"keys": [...]}`, creating the first key pair lazily as better-auth does."""
    rows = db.auth_jwks.list_jwks(conn)
    if not rows:
        signing_key(conn, sealing=sealing, now=now)
        rows = db.auth_jwks.list_jwks(conn)
    return {"keys": [public_jwk(row) for row in rows]}


def signing_key(conn: psycopg.Connection, *, sealing: keyseal.KeySealing, now: datetime,
                known: StoredKey | None = None) -> tuple[str, Ed25519PrivateKey]:
    """(kid, private key) of the key better-auth would sign with, created if none exists (decryptions cached).

    `known` is that key's row when the caller already read it (get-session does). A newest key that does not
    open (another secret or ENCRYPTION_KEY) or is sealed in the form this process does not write
    (JWT_KEY_ENCRYPTION changed) is rotated: a new key becomes the newest for every server, and the old one
    stays in /jwks, so tokens it signed still verify.
    """
    if known is None:
        row = db.auth_jwks.get_signing_jwk(conn, now=now)
        if row is None:
            return _create_key(conn, sealing=sealing, now=now)
        known = StoredKey(row.id, row.private_key)
    cache_key = (known, sealing)
    with _cache_lock:
        cached = _signing_keys.get(cache_key)
    if cached is None:
        if not sealing.is_written_form(known.sealed):
            log.info("newest JWT key is sealed in the other JWT_KEY_ENCRYPTION form; rotating",
                     extra={"kid": known.kid})
            return _create_key(conn, sealing=sealing, now=now)
        try:
            cached = unseal_private_key(known.sealed, sealing=sealing)
        except ValueError:
            log.warning(
                "newest JWT key does not open with this BETTER_AUTH_SECRET or ENCRYPTION_KEY; rotating",
                extra={"kid": known.kid})
            return _create_key(conn, sealing=sealing, now=now)
        with _cache_lock:
            _signing_keys[cache_key] = cached
    return known.kid, cached


def _create_key(conn: psycopg.Connection, *, sealing: keyseal.KeySealing,
                now: datetime) -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    kid = generate_id()
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = json.dumps({"crv": "Ed25519", "x": _b64url(raw_public), "kty": "OKP"}, separators=(",", ":"))
    db.auth_jwks.create_jwk(conn, id=kid, public_key=public, now=now, alg=ALGORITHM, crv="Ed25519",
                            private_key=seal_private_key(key, sealing=sealing))
    return kid, key


def issue(conn: psycopg.Connection, *, user: models.User, issuer: str, sealing: keyseal.KeySealing,
          now: datetime) -> str:
    """A 15-minute EdDSA JWT for user, signed with the key better-auth would sign with."""
    kid, key = signing_key(conn, sealing=sealing, now=now)
    return encode(user, kid=kid, key=key, issuer=issuer, iat=int(now.timestamp()))


def encode(user: models.User, *, kid: str, key: Ed25519PrivateKey, issuer: str, iat: int) -> str:
    """The JWT of user issued at iat (whole seconds): the user object plus sub, exp, iss, aud, in
    better-auth's claim order. Ed25519 signatures are deterministic: the same arguments give the same
    bytes."""
    payload = {"iat": iat, **user_json(user), "sub": user.id, "exp": iat + int(EXPIRES_IN.total_seconds()),
               "iss": issuer, "aud": issuer}
    return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": None})


def looks_like_jwt(value: str) -> bool:
    """Three base64url segments starting with a JSON header: never a 32-character session token."""
    return value.count(".") == 2 and value.startswith("eyJ")


def verify(conn: psycopg.Connection, *, token: str, issuer: str, now: datetime) -> dict[str, Any]:
    """The claims of a valid token; InvalidToken for any other algorithm, unknown kid, bad signature,
    exp/iss/aud."""
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
