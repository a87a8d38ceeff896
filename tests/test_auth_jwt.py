"""The jwt plugin: EdDSA tokens and JWKS, and current_user() refusing every forgery."""
from __future__ import annotations

import base64
import json

import jwt
import pytest
from conftest import TEST_ENCRYPTION_KEY, TEST_SECRET
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import bearer, create_session, create_user

from genvid import clock, sealing
from genvid.auth import keyseal
from genvid.clock import FrozenClock

ISSUER = "http://localhost:8080"


def issue(client, conn):
    user = create_user(conn)
    token = create_session(conn, user_id=user.id)
    return user, client.get("/api/auth/token", headers=bearer(token)).get_json()["token"]


def test_token_and_jwks(client, conn):
    """/token is an EdDSA JWT with the user's claims, verifiable with /jwks; the private key is encrypted."""
    user, token = issue(client, conn)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": header["kid"]}
    keys = client.get("/api/auth/jwks").get_json()["keys"]
    assert [list(k) for k in keys] == [["alg", "crv", "x", "kty", "kid"]] and keys[0]["kid"] == header["kid"]
    public = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience=ISSUER, issuer=ISSUER)
    assert list(claims) == ["iat", "name", "email", "emailVerified", "image", "createdAt", "updatedAt", "id",
                            "sub", "exp", "iss", "aud"]
    assert claims["sub"] == user.id and claims["exp"] - claims["iat"] == 900
    stored = conn.execute('SELECT "privateKey" FROM jwks').fetchone()[0]
    assert '"d"' not in stored and keys[0]["x"] not in stored
    # Sealed under ENCRYPTION_KEY by default (genvid's AES-GCM form), not openable with the auth secret alone.
    assert stored.startswith(sealing.FORMAT_PREFIX)
    with pytest.raises(ValueError):
        keyseal.unseal(TEST_SECRET, stored)
    private = json.loads(
        sealing.unseal(stored, encryption_key=TEST_ENCRYPTION_KEY, purpose="jwks.privateKey"))
    assert list(private) == ["crv", "d", "x", "kty"] and private["x"] == keys[0]["x"]


def test_better_auth_sealing_for_a_shared_database(make_app, conn):
    """JWT_KEY_ENCRYPTION=better_auth writes better-auth's own form, which a better-auth server can open."""
    client = make_app(jwt_key_encryption="better_auth").test_client()
    _, token = issue(client, conn)
    stored = conn.execute('SELECT "privateKey" FROM jwks').fetchone()[0]
    assert not stored.startswith(sealing.FORMAT_PREFIX)
    private = json.loads(keyseal.unseal(TEST_SECRET, stored))
    assert private["x"] == client.get("/api/auth/jwks").get_json()["keys"][0]["x"]
    assert jwt.get_unverified_header(token)["kid"] == conn.execute("SELECT id FROM jwks").fetchone()[0]


def test_switching_sealing_rotates_the_signing_key_and_old_tokens_still_verify(app, make_app, client, conn):
    """A newest key in the form this server does not write is replaced; both keys stay in /jwks."""
    from genvid.auth.current import optional_user
    shared = make_app(jwt_key_encryption="better_auth").test_client()
    user, old_token = issue(shared, conn)
    new_token = client.get("/api/auth/token",
                           headers=bearer(create_session(conn, user_id=user.id))).get_json()
    new_token = new_token["token"]
    old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (old_token, new_token))
    assert old_kid != new_kid
    forms = dict(
        conn.execute('SELECT id, "privateKey" LIKE %s FROM jwks', (sealing.FORMAT_PREFIX + "%",)).fetchall())
    assert forms == {old_kid: False, new_kid: True}
    assert {k["kid"] for k in client.get("/api/auth/jwks").get_json()["keys"]} == {old_kid, new_kid}
    for token in (old_token, new_token):
        with app.test_request_context("/api/x", headers=bearer(token)):
            found = optional_user()
            assert found is not None and found.id == user.id


def test_current_user_accepts_jwt_and_refuses_forgeries(app, client, conn):
    """A real JWT authenticates; alg none, HS256 keyed with the public key, foreign keys, exp/iss/aud fail."""
    from genvid.auth.current import optional_user
    user, token = issue(client, conn)

    def resolve(credential: str):
        with app.test_request_context("/api/x", headers=bearer(credential)):
            found = optional_user()
            return found.id if found else None

    assert resolve(token) == user.id
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    none_header = base64.urlsafe_b64encode(
        json.dumps({"alg": "none", "kid": jwt.get_unverified_header(token)["kid"]})
        .encode()).rstrip(b"=").decode()
    assert resolve(f"{none_header}.{payload}.") is None
    public_x = client.get("/api/auth/jwks").get_json()["keys"][0]["x"]
    kid = jwt.get_unverified_header(token)["kid"]
    assert resolve(jwt.encode(claims, public_x, algorithm="HS256", headers={"kid": kid})) is None
    stranger = Ed25519PrivateKey.generate()
    assert resolve(jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": kid})) is None
    assert resolve(jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "unknown"})) is None
    assert resolve(header + "." + payload + "." + "A" * 86) is None
    later = FrozenClock()
    later.advance(901)
    clock.install(later)
    try:
        assert resolve(token) is None                                     # expired on our clock
    finally:
        clock.install(None)


def test_wrong_issuer_or_audience_is_refused(app, make_app, conn):
    """A token from a server with another BETTER_AUTH_URL is not accepted."""
    from genvid.auth.current import optional_user
    other = make_app(better_auth_url="http://other.test").test_client()
    _, token = issue(other, conn)
    with app.test_request_context("/api/x", headers=bearer(token)):
        assert optional_user() is None


def test_get_session_rejects_jwt_as_bearer(client, conn):
    """A JWT is not a bearer session token for get-session (better-auth's bearer plugin)."""
    _, token = issue(client, conn)
    assert client.get("/api/auth/get-session", headers=bearer(token)).get_json() is None
