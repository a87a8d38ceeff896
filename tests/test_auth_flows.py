"""The better-auth endpoints answer as the spec's tables say (status, body keys, cookies, headers)."""
from __future__ import annotations

import re

from conftest import TEST_SECRET
from factories import DEFAULT_PASSWORD, bearer, create_session, create_user

from genvid.auth.cookies import signed_value

ORIGIN = {"Origin": "http://localhost:5173"}
TOKEN = re.compile(r"^[A-Za-z0-9]{32}$")
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def sign_up(client, email="Ada@Example.com", password="long enough pw", **extra):
    return client.post("/api/auth/sign-up/email",
                       json={"name": "Ada", "email": email, "password": password, **extra})


def test_sign_up_creates_user_account_session_and_cookie(client, conn):
    """sign-up answers {token, user} with a lower-cased email, one signed cookie and set-auth-token."""
    response = sign_up(client)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["token", "user"]
    assert TOKEN.match(body["token"])
    assert list(body["user"]) == ["name", "email", "emailVerified", "image", "createdAt", "updatedAt", "id"]
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["createdAt"] == body["user"]["updatedAt"] and DATE.match(body["user"]["createdAt"])
    cookies = response.headers.getlist("Set-Cookie")
    value = signed_value(TEST_SECRET, body["token"])
    encoded = value.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert cookies == [f"better-auth.session_token={encoded}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"]
    assert response.headers["set-auth-token"] == value
    rows = conn.execute('SELECT "providerId", "accountId" = "userId" FROM account').fetchall()
    assert rows == [("credential", True)]


def test_get_session_round_trip_and_sign_out(client):
    """A cookie from sign-up reads back on get-session; sign-out deletes it and clears three cookies."""
    token = sign_up(client).get_json()["token"]
    response = client.get("/api/auth/get-session")
    body = response.get_json()
    assert list(body) == ["session", "user"]
    assert list(body["session"]) == ["expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent",
                                     "userId", "id"]
    assert body["session"]["token"] == token
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert response.headers["set-auth-jwt"].count(".") == 2
    out = client.post("/api/auth/sign-out", headers=ORIGIN, json={})
    assert out.get_json() == {"success": True}
    assert [c.split(";")[0] for c in out.headers.getlist("Set-Cookie")] == [
        "better-auth.session_token=", "better-auth.session_data=", "better-auth.dont_remember="]
    assert client.get("/api/auth/get-session", headers=bearer(token)).get_json() is None


def test_sign_in_wrong_password_and_unknown_email_are_identical(client, conn):
    """Both answer 401 INVALID_EMAIL_OR_PASSWORD with the same body."""
    create_user(conn, email="known@example.com")
    wrong = client.post("/api/auth/sign-in/email",
                        json={"email": "known@example.com", "password": "nope nope"})
    unknown = client.post("/api/auth/sign-in/email",
                          json={"email": "who@example.com", "password": "nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json() == {"message": "Invalid email or password",
                                                      "code": "INVALID_EMAIL_OR_PASSWORD"}
    good = client.post("/api/auth/sign-in/email",
                       json={"email": "KNOWN@example.com", "password": DEFAULT_PASSWORD,
                              "callbackURL": "/dashboard"})
    assert good.status_code == 200 and good.headers["Location"] == "/dashboard"
    assert list(good.get_json()) == ["redirect", "token", "url", "user"]


def test_factory_session_works_as_bearer(client, conn):
    """A factory-made session authenticates with a bare bearer token."""
    user = create_user(conn)
    token = create_session(conn, user_id=user.id)
    body = client.get("/api/auth/get-session", headers=bearer(token)).get_json()
    assert body["user"]["id"] == user.id
