"""Social sign-in on genvid alone, over real HTTP against the local fake providers: what lands in the
database, the state's single use and expiry, ID-token checks, implicit-linking rules, provider failures, token
storage."""
from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from conftest import TEST_SECRET
from fakes.oauth import Person, other_key
from flask import Flask
from social_browser import Browser
from social_fixtures import GENERIC_ID, Fakes

from genvid.auth import cookies
from genvid.auth.oauth.state import STATE_COOKIE
from genvid.clock import FrozenClock

PASSWORD = "correct horse battery"


@pytest.fixture
def genvid(serve_genvid: Any, fakes: Fakes, frozen_clock: FrozenClock) -> tuple[str, Flask, FrozenClock]:
    """genvid over HTTP with the fake providers and a settable clock."""
    url, app = serve_genvid(**fakes.genvid_settings())
    return url + "/api/auth", app, frozen_clock


def browser(genvid: tuple[str, Flask, FrozenClock], fakes: Fakes) -> Browser:
    return Browser(genvid[0], hosts=fakes.hosts())


def sign_in_with(b: Browser, provider: str = "google", **body: Any) -> Any:
    """The whole dance; the callback's answer."""
    start = b.post("/sign-in/social", {"provider": provider, **body})
    assert start.status_code == 200, start.text
    return b.visit(b.consent(start).headers["Location"])


def accounts_of(conn: psycopg.Connection, email: str) -> list[tuple[Any, ...]]:
    return conn.execute('SELECT a."providerId", a."accountId", a."accessToken", a."refreshToken", a.scope,'
                        ' a."accessTokenExpiresAt", a."idToken" FROM account a JOIN "user" u ON u.id = '
                        'a."userId"'
                        ' WHERE u.email = %s ORDER BY a."createdAt"', (email,)).fetchall()


def test_google_sign_up_makes_the_user_account_and_session(genvid, fakes, conn):
    """A new person: a verified user from the profile, an account with the provider's tokens, a 7-day session
    cookie, a redirect to newUserCallbackURL; the state row is used up."""
    b = browser(genvid, fakes)
    done = sign_in_with(b, callbackURL="/dash", newUserCallbackURL="/welcome")
    assert (done.status_code, done.headers["Location"]) == (302, "/welcome")
    user = conn.execute('SELECT name, email, "emailVerified", image FROM "user"').fetchone()
    assert user == ("Pat Doe", "pat@example.com", True, "https://img.example/pat.png")
    [(provider, subject, access, refresh, scope, expires, id_token)] = accounts_of(conn, "pat@example.com")
    assert (provider, subject, scope) == ("google", "1000001", "email,profile,openid")
    assert access.startswith("at-") and refresh.startswith("rt-") and id_token.count(".") == 2
    assert timedelta(seconds=3590) < expires - genvid[2]() <= timedelta(seconds=3600)
    assert conn.execute("SELECT count(*) FROM verification").fetchone() == (0,)
    assert b.get("/get-session").json()["user"]["email"] == "pat@example.com"


def test_state_is_kept_as_better_auth_keeps_it(genvid, fakes, conn):
    """verification row `auth-state:<state>` (value: better-auth's JSON, 10 minutes), the signed state cookie,
    and the PKCE challenge of the stored verifier in the authorization URL."""
    b = browser(genvid, fakes)
    start = b.post("/sign-in/social",
                   {"provider": GENERIC_ID, "callbackURL": "/dash", "errorCallbackURL": "/err",
                    "additionalData": {"plan": "pro"}})
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.json()["url"]).query).items()}
    identifier, value, lifetime = conn.execute(
        'SELECT identifier, value, "expiresAt" - "createdAt" FROM verification').fetchone()
    data = json.loads(value)
    assert identifier == f"auth-state:{query['state']}" and lifetime == timedelta(minutes=10)
    assert list(data) == ["plan", "callbackURL", "codeVerifier", "errorURL", "expiresAt", "idTokenNonce",
                          "oauthState"]
    assert (data["callbackURL"], data["errorURL"], data["oauthState"]) == ("/dash", "/err", query["state"])
    assert data["idTokenNonce"] == query["nonce"] and len(data["codeVerifier"]) == 128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(data["codeVerifier"].encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == challenge.decode() and query["code_challenge_method"] == "S256"
    raw = b.session.cookies.get(STATE_COOKIE)
    assert cookies.verify_signed(TEST_SECRET, raw) == query["state"]
    assert start.headers["Location"] == start.json()["url"]


def test_an_expired_state_is_refused(genvid, fakes, conn):
    """Ten minutes after sign-in began the callback is refused (to the errorCallbackURL),
    and the row is gone."""
    b = browser(genvid, fakes)
    start = b.post("/sign-in/social", {"provider": "google", "errorCallbackURL": "/err"})
    back = b.consent(start).headers["Location"]
    genvid[2].advance(601)
    done = b.visit(back)
    assert done.headers["Location"] == "/err?error=state_mismatch"
    assert f"{STATE_COOKIE}=; Max-Age=0" in done.headers["Set-Cookie"]
    assert conn.execute('SELECT count(*) FROM "user"').fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM verification").fetchone() == (0,)


def test_racing_callbacks_with_one_state_sign_in_once(genvid, fakes, conn):
    """The same callback URL replayed five times at once: one sign-in, four state_mismatch refusals (to the
    flow's error URL, or to /api/auth/error once the state row is gone, as better-auth answers a replay)."""
    b = browser(genvid, fakes)
    start = b.post("/sign-in/social",
                   {"provider": "github", "callbackURL": "/dash", "errorCallbackURL": "/err"})
    back = b.consent(start).headers["Location"]
    with ThreadPoolExecutor(5) as pool:
        locations = sorted(pool.map(lambda _: b.session.get(back, allow_redirects=False).headers["Location"],
                                    range(5)))
    assert locations.count("/dash") == 1
    assert all(location.endswith("error=state_mismatch") for location in locations if location != "/dash")
    assert conn.execute("SELECT count(*) FROM session").fetchone() == (1,)


def _id_token_sign_in(genvid, body_token: str, nonce: str | None = None) -> Any:
    b = Browser(genvid[0])
    id_token: dict[str, Any] = {"token": body_token}
    if nonce:
        id_token["nonce"] = nonce
    return b.post("/sign-in/social", {"provider": "google", "idToken": id_token})


@pytest.mark.parametrize("case", ["wrong audience", "wrong issuer", "expired", "bad signature", "wrong nonce",
                                  "issued too long ago", "not a JWT", "no subject"])
def test_id_tokens_that_do_not_hold_are_refused(genvid, fakes, conn, case):
    """ID-token sign-in checks the signature against the provider's JWKS, aud, iss, exp, iat age and nonce."""
    now = int(genvid[2]().timestamp())
    google = fakes.google
    token = {
        "wrong audience": lambda: google.id_token(aud="another-client"),
        "wrong issuer": lambda: google.id_token(iss="https://evil.example"),
        "expired": lambda: google.id_token(iat=now - 7200, exp=now - 3600),
        "bad signature": lambda: google.id_token(key=other_key()),
        "wrong nonce": lambda: google.id_token(nonce="minted-for-another"),
        "issued too long ago": lambda: google.id_token(iat=now - 7200, exp=now + 3600),
        "not a JWT": lambda: "opaque-token",
        "no subject": lambda: google.id_token(sub=None),
    }[case]()
    answer = _id_token_sign_in(genvid, token, nonce="expected-nonce" if case == "wrong nonce" else None)
    assert (answer.status_code, answer.json()) == (401, {"message": "Invalid token", "code": "INVALID_TOKEN"})
    assert conn.execute('SELECT count(*) FROM "user"').fetchone() == (0,)


def test_a_good_id_token_signs_in_and_a_nonce_is_checked(genvid, fakes, conn):
    answer = _id_token_sign_in(genvid, fakes.google.id_token(nonce="n-1"), nonce="n-1")
    assert answer.status_code == 200 and answer.json()["user"]["email"] == "pat@example.com"
    [(provider, _, access, refresh, scope, _, id_token)] = accounts_of(conn, "pat@example.com")
    assert (provider, access, refresh, scope) == ("google", None, None, None) and id_token


def test_code_flow_id_tokens_are_verified_too(genvid, fakes, conn):
    """A token endpoint handing out an ID token signed by another key
    (or for another client) signs nobody in."""
    fakes.google.sign_with = other_key()
    assert sign_in_with(browser(genvid, fakes), errorCallbackURL="/err").headers["Location"] == \
        "/err?error=unable_to_get_user_info"
    fakes.google.sign_with, fakes.google.id_token_claims = None, {"aud": "another-client"}
    assert sign_in_with(browser(genvid, fakes), errorCallbackURL="/err").headers["Location"] == \
        "/err?error=unable_to_get_user_info"
    assert conn.execute('SELECT count(*) FROM "user"').fetchone() == (0,)


def test_a_provider_that_times_out_is_an_error_redirect(serve_genvid, fakes, conn):
    """Slower than oauth_timeout_seconds: better-auth's error redirect, never a 500."""
    url, _ = serve_genvid(**{**fakes.genvid_settings(), "oauth_timeout_seconds": 0.5})
    fakes.github.slow = 0.0
    b = Browser(url + "/api/auth", hosts=fakes.hosts())
    start = b.post("/sign-in/social", {"provider": "github", "errorCallbackURL": "/err"})
    back = b.consent(start).headers["Location"]
    fakes.github.slow = 2.0
    done = b.visit(back)
    assert (done.status_code, done.headers["Location"]) == (302, "/err?error=invalid_code")
    fakes.github.slow = 0.0


def test_an_unreachable_discovery_document_means_provider_not_found(serve_genvid, fakes):
    """A generic provider whose discovery fails is missing for that request, and found once it answers."""
    url, _ = serve_genvid(**fakes.genvid_settings())
    b = Browser(url + "/api/auth", hosts=fakes.hosts())
    fakes.acme.slow = 5.0
    answer = b.post("/sign-in/social", {"provider": GENERIC_ID})
    assert (answer.status_code, answer.json()["code"]) == (404, "PROVIDER_NOT_FOUND")
    fakes.acme.slow = 0.0
    assert b.post("/sign-in/social", {"provider": GENERIC_ID}).status_code == 200


def _email_user(genvid, *, verified: bool, conn: psycopg.Connection) -> Browser:
    b = Browser(genvid[0])
    assert b.post("/sign-up/email", {"email": "pat@example.com", "password": PASSWORD, "name": "Pat"}).ok
    conn.execute('UPDATE "user" SET "emailVerified" = %s', (verified,))
    return b


@pytest.mark.parametrize(("local_verified", "provider_verified", "trusted", "linked"), [
    (True, True, False, True),           # both sides verified: linked
    (False, True, False, False),         # the local email is not verified: never linked implicitly
    (True, False, False, False),         # the provider does not vouch for the email
    (True, False, True, True),           # ... unless the provider is trusted
])
def test_implicit_linking_follows_better_auth(serve_genvid, fakes, conn, local_verified, provider_verified,
                                              trusted, linked):
    url, app = serve_genvid(**fakes.genvid_settings(), trusted_providers=("google",) if trusted else ())
    genvid = (url + "/api/auth", app, FrozenClock())
    _email_user(genvid, verified=local_verified, conn=conn)
    fakes.google.person = Person(email="pat@example.com", email_verified=provider_verified)
    done = sign_in_with(Browser(genvid[0], hosts=fakes.hosts()), callbackURL="/dash", errorCallbackURL="/err")
    assert done.headers["Location"] == ("/dash" if linked else "/err?error=account_not_linked")
    providers = [row[0] for row in accounts_of(conn, "pat@example.com")]
    assert providers == (["credential", "google"] if linked else ["credential"])


def test_linking_refuses_another_users_account_and_another_email(genvid, fakes, conn):
    owner = browser(genvid, fakes)
    sign_in_with(owner)                                   # pat@example.com owns Google subject 1000001
    other = Browser(genvid[0], hosts=fakes.hosts())
    assert other.post("/sign-up/email", {"email": "sam@example.com", "password": PASSWORD, "name": "Sam"}).ok
    start = other.post("/link-social", {"provider": "google", "errorCallbackURL": "/err"})
    assert other.visit(other.consent(start).headers["Location"]).headers["Location"] == \
        "/err?error=email_does_not_match"
    fakes.google.person = Person(sub="1000001", email="sam@example.com")
    start = other.post("/link-social", {"provider": "google", "errorCallbackURL": "/err"})
    assert other.visit(other.consent(start).headers["Location"]).headers["Location"] == \
        "/err?error=account_already_linked_to_different_user"
    assert [row[0] for row in accounts_of(conn, "sam@example.com")] == ["credential"]


def test_a_link_whose_session_ended_is_refused(genvid, fakes, conn):
    b = Browser(genvid[0], hosts=fakes.hosts())
    assert b.post("/sign-up/email", {"email": "pat@example.com", "password": PASSWORD, "name": "Pat"}).ok
    start = b.post("/link-social", {"provider": "google", "errorCallbackURL": "/err"})
    back = b.consent(start).headers["Location"]
    conn.execute("DELETE FROM session")
    assert b.visit(back).headers["Location"] == "/err?error=unable_to_link_account"


@pytest.mark.parametrize("key", ["callbackURL", "errorCallbackURL", "newUserCallbackURL"])
def test_callback_urls_must_be_trusted(genvid, fakes, key):
    """No open redirect: absolute callback URLs must be on a trusted origin (relative paths are fine)."""
    b = browser(genvid, fakes)
    answer = b.post("/sign-in/social", {"provider": "google", key: "https://evil.example/next"})
    assert answer.status_code == 403 and answer.json()["code"].startswith("INVALID_")
    assert b.post("/sign-in/social", {"provider": "google", key: "//evil.example/next"}).status_code == 403


def test_unlinking_needs_a_fresh_session(genvid, fakes, conn):
    b = browser(genvid, fakes)
    sign_in_with(b)
    assert b.post("/link-social", {"provider": "github"}).status_code == 200
    genvid[2].advance(86400)
    rows = b.get("/list-accounts").json()
    answer = b.post("/unlink-account", {"accountId": rows[0]["id"]})
    assert (answer.status_code, answer.json()["code"]) == (403, "SESSION_NOT_FRESH")


def test_an_expired_access_token_is_refreshed_and_a_failed_refresh_is_a_400(genvid, fakes, conn):
    b = browser(genvid, fakes)
    sign_in_with(b)
    account = b.get("/list-accounts").json()[0]["id"]
    first = accounts_of(conn, "pat@example.com")[0][2]
    assert b.post("/get-access-token", {"accountId": account}).json()["accessToken"] == first
    genvid[2].advance(3600)
    refreshed = b.post("/get-access-token", {"accountId": account}).json()
    assert refreshed["accessToken"] != first and refreshed["accessToken"] == accounts_of(
        conn, "pat@example.com")[0][2]
    genvid[2].advance(3600)
    fakes.google.token_status = 503
    answer = b.post("/get-access-token", {"accountId": account})
    assert (answer.status_code, answer.json()["code"]) == (400, "FAILED_TO_GET_ACCESS_TOKEN")
    answer = b.post("/refresh-token", {"accountId": account})
    assert (answer.status_code, answer.json()["code"]) == (400, "FAILED_TO_REFRESH_ACCESS_TOKEN")


def test_sealed_tokens_are_stored_sealed_and_handed_out_plain(serve_genvid, fakes, conn):
    """OAUTH_TOKEN_ENCRYPTION=better_auth: access and refresh tokens rest in better-auth's encrypted form."""
    url, _ = serve_genvid(**fakes.genvid_settings(), oauth_token_encryption="better_auth")
    b = Browser(url + "/api/auth", hosts=fakes.hosts())
    sign_in_with(b)
    [(_, _, access, refresh, *_)] = accounts_of(conn, "pat@example.com")
    assert not access.startswith("at-") and all(c in "0123456789abcdef" for c in access + refresh)
    account = b.get("/list-accounts").json()[0]["id"]
    assert b.post("/get-access-token", {"accountId": account}).json()["accessToken"].startswith("at-")
