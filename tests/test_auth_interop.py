"""genvid beside the real better-auth 1.7.25 (npm, pinned): its client cannot tell them apart, and the two
servers share one database: users, cookies, sign-outs, JWT keys and the schema itself."""
from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
import psycopg
import pytest
import requests
from auth_fixtures import (
    TRUSTED_ORIGIN,
    better_auth_migrate,
    free_port,
    run_client,
)
from conftest import TEST_SECRET

from genvid.auth import cookies
from genvid.infra.migrations import apply_migrations

pytestmark = pytest.mark.slow

# Where genvid differs from better-auth on purpose; every other step must match key for key.
KNOWN_DIFFERENCES = {
    # genvid's verification links are single-use (issue 3); better-auth's are stateless JWTs valid for an
    # hour.
    "verify-email again",
}
ORIGIN = {"Origin": TRUSTED_ORIGIN}
PASSWORD = "correct horse battery"


def by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in run["steps"]}


def _explain(differing: list[str], expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """Every differing step by name, and the first in full (a repr of all of them gets cut short)."""
    first = differing[0]
    return (f"{len(differing)} steps differ: {differing}\nfirst, {first!r}:\n"
            f"better-auth {json.dumps(expected[first], indent=1, sort_keys=True)}\n"
            f"genvid      {json.dumps(actual[first], indent=1, sort_keys=True)}")


def test_the_real_client_sees_no_difference(node, better_auth, serve_genvid):
    """client.mjs (better-auth/client + raw HTTP) drives both servers through every endpoint and error case;
    statuses, bodies, cookies and auth headers match, and both sign JWTs with the same shared key."""
    mailbox = free_port()
    reference = better_auth(mail_hook_port=mailbox)
    expected = by_name(run_client(node, reference.url, tag=f"ba{uuid.uuid4().hex[:8]}", mailbox_port=mailbox))
    genvid_url, _ = serve_genvid(smtp_url=f"smtp://127.0.0.1:{mailbox}")
    run = run_client(node, genvid_url, tag=f"gv{uuid.uuid4().hex[:8]}", mailbox_port=mailbox)
    actual = by_name(run)

    assert list(actual) == list(expected)
    assert len(actual) > 100
    differing = [
        name for name in expected if actual[name] != expected[name] and name not in KNOWN_DIFFERENCES]
    assert differing == [], _explain(differing, expected, actual)
    # The known differences are exactly what genvid means them to be.
    assert actual["verify-email again"]["status"] == 401
    assert actual["verify-email again"]["body"] == {"message": "Invalid token", "code": "INVALID_TOKEN"}
    # A sample of what "match" means, so a broken normaliser cannot make everything equal.
    assert actual["sign-up"]["cookies"] == [
        "better-auth.session_token=<signed:<id1>>; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"]
    assert actual["sign-in wrong password"]["clientError"]["code"] == "INVALID_EMAIL_OR_PASSWORD"
    assert actual["jwt verifies with jose"]["lifetime"] == 900
    assert actual["email changed"]["body"]["user"]["email"] == "erin2.TAG@example.com"
    assert actual["reset-password"]["body"] == {"status": True}
    assert actual["deleted user signs in"]["status"] == 401
    # genvid signs with the key better-auth created (one key set for both servers).
    assert run["keyIds"]["token"] in run["keyIds"]["jwks"]


def test_the_real_client_sees_the_same_rate_limit(node, better_auth, serve_genvid):
    """With rate limiting on, the client's 4th sign-in within 10 s is 429 on both servers, alike."""
    reference = better_auth(production=True)
    expected = run_client(node, reference.url, tag=f"ba{uuid.uuid4().hex[:8]}", mailbox_port=0,
                          mode="ratelimit")
    genvid_url, _ = serve_genvid(rate_limit=True)
    actual = run_client(node, genvid_url, tag=f"gv{uuid.uuid4().hex[:8]}", mailbox_port=0, mode="ratelimit")
    assert actual["steps"] == expected["steps"]
    limited = actual["steps"][3]
    assert (limited["status"], limited["body"]) == (429,
                                                    {"message": "Too many requests. Please try again later."})
    assert limited["headers"]["x-retry-after"] == "10"
    assert [step["status"] for step in actual["steps"]] == [401, 401, 401, 429, 200]


def sign_up(base: str, email: str) -> requests.Response:
    response = requests.post(f"{base}/api/auth/sign-up/email", headers=ORIGIN, timeout=60,
                             json={"email": email, "password": PASSWORD, "name": "Cross"})
    assert response.status_code == 200, response.text
    return response


def sign_in(base: str, email: str) -> requests.Response:
    return requests.post(f"{base}/api/auth/sign-in/email", headers=ORIGIN, timeout=60,
                         json={"email": email, "password": PASSWORD})


def get_session(base: str, cookie: str) -> Any:
    return requests.get(f"{base}/api/auth/get-session", timeout=60,
                        headers={"Cookie": f"better-auth.session_token={cookie}"}).json()


def stored_hash(conn: psycopg.Connection, email: str) -> str:
    row = conn.execute(
        'SELECT a."password" FROM account a JOIN "user" u ON u.id = a."userId" WHERE u.email = %s',
        (email,)).fetchone()
    assert row is not None
    return str(row[0])


def test_users_sign_in_on_either_server_with_scrypt(better_auth, serve_genvid, conn):
    """With PASSWORD_HASH=scrypt a user who signed up on either server signs in on the other."""
    reference = better_auth()
    genvid, _ = serve_genvid(password_hash="scrypt")
    sign_up(genvid, "made-by-genvid@example.com")
    sign_up(reference.url, "made-by-better-auth@example.com")
    assert sign_in(reference.url, "made-by-genvid@example.com").status_code == 200
    assert sign_in(genvid, "made-by-better-auth@example.com").status_code == 200
    assert ":" in stored_hash(conn, "made-by-genvid@example.com")


def test_better_auth_user_signs_in_on_genvid_under_bcrypt(better_auth, serve_genvid, conn):
    """Under the bcrypt default a better-auth user signs in on genvid (then rehashed to bcrypt, after which
    better-auth itself answers 500: why the README asks for PASSWORD_HASH=scrypt on a shared database)."""
    reference = better_auth()
    genvid, _ = serve_genvid()
    sign_up(reference.url, "scrypt-user@example.com")
    assert sign_in(genvid, "scrypt-user@example.com").status_code == 200
    assert stored_hash(conn, "scrypt-user@example.com").startswith("$gv1$$2b$")
    assert sign_in(reference.url, "scrypt-user@example.com").status_code == 500


def test_jwt_keys_sealed_under_encryption_key_stop_a_shared_better_auth_server(better_auth, serve_genvid):
    """Under the JWT_KEY_ENCRYPTION=encryption_key default genvid rotates the shared key set to a key only it
    can open, and better-auth's get-session answers 500 from then on: why the README asks for
    JWT_KEY_ENCRYPTION=better_auth on a shared database (every other test here runs genvid that way)."""
    reference = better_auth()
    signed_up = sign_up(reference.url, f"keys-{uuid.uuid4().hex[:8]}@example.com")
    cookie = {"better-auth.session_token": signed_up.cookies["better-auth.session_token"]}
    assert requests.get(f"{reference.url}/api/auth/get-session", cookies=cookie,
                        timeout=60).status_code == 200
    genvid, _ = serve_genvid(jwt_key_encryption="encryption_key")
    assert requests.get(f"{genvid}/api/auth/get-session", cookies=cookie, timeout=60).status_code == 200
    assert requests.get(f"{reference.url}/api/auth/get-session", cookies=cookie,
                        timeout=60).status_code == 500


def test_cookies_are_valid_on_both_and_sign_out_ends_both(better_auth, serve_genvid):
    """A cookie minted by either server is a session on the other; a sign-out on one ends it on both."""
    reference = better_auth()
    genvid, _ = serve_genvid(password_hash="scrypt")
    for minter, other in ((genvid, reference.url), (reference.url, genvid)):
        email = f"cookie-{uuid.uuid4().hex[:8]}@example.com"
        minted = sign_up(minter, email).cookies["better-auth.session_token"]
        token = minted.split("%2E")[0].split(".")[0]
        assert minted == cookies.encode_cookie_value(cookies.signed_value(TEST_SECRET, token))
        for server in (minter, other):
            assert get_session(server, minted)["session"]["token"] == token
        ended = requests.post(f"{other}/api/auth/sign-out", json={}, timeout=60,
                              headers={**ORIGIN, "Cookie": f"better-auth.session_token={minted}"})
        assert ended.status_code == 200
        assert get_session(minter, minted) is None and get_session(other, minted) is None


def test_jwts_from_either_server_verify_on_both(better_auth, serve_genvid, app):
    """Both servers sign with the one key set in `jwks`: each one's JWT verifies against the other's /jwks."""
    reference = better_auth()
    genvid, genvid_app = serve_genvid(password_hash="scrypt")
    bearer = sign_up(genvid, "jwt-user@example.com").headers["set-auth-token"]
    tokens = {server: requests.get(f"{server}/api/auth/token", timeout=60,
                                   headers={"Authorization": f"Bearer {bearer}"}).json()["token"]
              for server in (genvid, reference.url)}
    for issuer, token in tokens.items():
        for verifier in (genvid, reference.url):
            keys = requests.get(f"{verifier}/api/auth/jwks", timeout=60).json()["keys"]
            key = next(k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"])
            claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience=issuer,
                                issuer=issuer)
            assert claims["email"] == "jwt-user@example.com"
    from genvid.auth.current import optional_user
    with genvid_app.test_request_context("/api/x", headers={"Authorization": f"Bearer {tokens[genvid]}"}):
        user = optional_user()
        assert user is not None and user.email == "jwt-user@example.com"


def test_better_auth_finds_nothing_to_migrate_on_a_genvid_database(node, services, app):
    """better-auth's own migration planner (getMigrations, with the bearer, jwt and api-key plugins) has
    nothing to do."""
    plan = better_auth_migrate(node, services.database_url)
    assert (plan["toBeCreated"], plan["toBeAdded"], plan["toBeAddedIndexes"]) == ([], [], [])


def _schema(url: str) -> list[tuple[Any, ...]]:
    """Columns, constraints and indexes of better-auth's tables, comparable across databases."""
    tables = ("user", "session", "account", "verification", "jwks", "apikey")
    with psycopg.connect(url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM "
            "information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = ANY(%s) ORDER BY 1, 2",
            (list(tables),)).fetchall()
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            ([f'"{t}"' if t == "user" else t for t in tables],)).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename = ANY(%s) ORDER BY 1, 2", (list(tables),)).fetchall()
    return [*columns, *constraints, *indexes]


def test_genvid_migrations_adopt_a_database_better_auth_created(node, services, app):
    """On a database whose tables better-auth's migrator created, genvid's migrations apply cleanly and leave
    the same schema genvid creates itself; better-auth then still finds nothing to do."""
    name = f"adopt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = urlunsplit(urlsplit(services.database_url)._replace(path=f"/{name}"))
    try:
        created = better_auth_migrate(node, database_url, apply=True)
        assert created["toBeCreated"] == ["user", "session", "account", "verification", "jwks", "apikey"]
        assert "0002_auth" in apply_migrations(database_url)
        assert _schema(database_url) == _schema(services.database_url)
        again = better_auth_migrate(node, database_url)
        assert (again["toBeCreated"], again["toBeAdded"], again["toBeAddedIndexes"]) == ([], [], [])
    finally:
        with psycopg.connect(services.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
