"""The spec's error table (section 5) and routing rules (section 3), answered byte for byte."""
from __future__ import annotations

import pytest
from factories import bearer, create_session, create_user

ORIGIN = {"Origin": "http://localhost:5173"}
SIGN_UP = "/api/auth/sign-up/email"


def err(response):
    return response.status_code, response.get_json()


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "A", "email": "not-an-email", "password": "long enough"}, "[body.email] Invalid email address"),
    ({"name": "A", "email": " a@example.com ", "password": "long enough"},
     "[body.email] Invalid email address"),
    ({"email": "a@example.com", "password": "long enough"},
     "[body.name] Invalid input: expected string, received undefined"),
    ({"name": "A", "email": "a@example.com", "password": ""},
     "[body.password] Too small: expected string to have >=1 characters"),
    ({"name": "A", "email": "a@example.com", "password": 12345678},
     "[body.password] Invalid input: expected string, received number"),
    ({},
     ("[body.name] Invalid input: expected string, received undefined; [body.email] Invalid input: expected "
      "string, received undefined; [body.password] Invalid input: expected string, received undefined")),
    # sign-up's body is z.object(...).and(z.record(...)): the real 1.7.25 server reports both halves.
    ([], ("[body] Invalid input: expected object, received array; "
          "[body] Invalid input: expected record, received array")),
])
def test_sign_up_validation_messages(client, body, message):
    """Body schema failures are 400 VALIDATION_ERROR with zod's messages."""
    assert err(client.post(SIGN_UP, json=body)) == (400, {"message": message, "code": "VALIDATION_ERROR"})


def test_sign_up_without_body_and_with_bad_json(client):
    """No body lists both zod alternatives; unparsable JSON is BAD_REQUEST."""
    assert err(client.post(SIGN_UP)) == (400, {
        "message": "[body] Invalid input: expected object, received undefined; "
                   "[body] Invalid input: expected record, received undefined", "code": "VALIDATION_ERROR"})
    assert err(client.post(SIGN_UP, data="{nope", content_type="application/json")) == (
        400, {"message": "Invalid JSON in request body", "code": "BAD_REQUEST"})


def test_unsupported_content_types(client, conn):
    """415 lists the allowed types: form + JSON for sign-in/up, JSON only elsewhere."""
    assert err(client.post(SIGN_UP, data="x", content_type="text/plain")) == (415, {
        "message": 'Content-Type "text/plain" is not allowed. Allowed types: '
                   "application/x-www-form-urlencoded, application/json", "code": "UNSUPPORTED_MEDIA_TYPE"})
    assert err(client.post("/api/auth/sign-out", data="x", content_type="text/plain")) == (415, {
        "message": 'Content-Type "text/plain" is not allowed. Allowed types: application/json',
        "code": "UNSUPPORTED_MEDIA_TYPE"})
    form = client.post(SIGN_UP, data={"name": "F", "email": "form@example.com", "password": "long enough"})
    assert form.status_code == 200


@pytest.mark.parametrize(("password", "code", "message"), [
    ("short", "PASSWORD_TOO_SHORT", "Password too short"),
    ("abcd😀", "PASSWORD_TOO_SHORT", "Password too short"),
    ("x" * 129, "PASSWORD_TOO_LONG", "Password too long"),
])
def test_password_length_in_utf16_units(client, password, code, message):
    """Lengths count UTF-16 code units: 'abcd😀' is 6 long, too short."""
    body = {"name": "A", "email": "a@example.com", "password": password}
    assert err(client.post(SIGN_UP, json=body)) == (400, {"message": message, "code": code})


def test_four_emoji_are_long_enough(client):
    """'😀😀😀😀' is 8 UTF-16 units: accepted."""
    body = {"name": "A", "email": "e@example.com", "password": "😀😀😀😀"}
    assert client.post(SIGN_UP, json=body).status_code == 200


def test_duplicate_email_in_any_case(client, conn):
    """A taken email (any case) is 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL."""
    create_user(conn, email="taken@example.com")
    assert err(client.post(SIGN_UP,
                           json={"name": "A", "email": "TAKEN@example.com", "password": "long enough"})) == (
        422, {"message": "User already exists. Use another email.",
              "code": "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"})


def test_sign_in_errors(client):
    """Malformed email is INVALID_EMAIL; >128 is PASSWORD_TOO_LONG; short passwords are just wrong."""
    url = "/api/auth/sign-in/email"
    assert err(client.post(url, json={"email": "bad", "password": "x"})) == (
        400, {"message": "Invalid email", "code": "INVALID_EMAIL"})
    assert err(client.post(url, json={"email": "a@example.com", "password": "x" * 129}))[1]["code"] == (
        "PASSWORD_TOO_LONG")
    assert err(client.post(url, json={"email": "a@example.com", "password": "x"}))[0] == 401


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/auth/list-sessions"), ("POST", "/api/auth/update-user"),
    ("POST", "/api/auth/change-password"),
    ("POST", "/api/auth/revoke-sessions"), ("POST", "/api/auth/revoke-other-sessions"),
    ("GET", "/api/auth/token"),
])
def test_session_required(client, method, path):
    """Without a session these answer 401 UNAUTHORIZED."""
    body = {"name": "x"} if path.endswith("update-user") else {}
    if path.endswith("change-password"):
        body = {"newPassword": "long enough", "currentPassword": "whatever1"}
    response = client.open(path, method=method, json=body if method == "POST" else None)
    assert err(response) == (401, {"message": "Unauthorized", "code": "UNAUTHORIZED"})


def test_account_errors(client, conn):
    """update-user email / empty, change-password wrong current, revoke-session without token."""
    user = create_user(conn)
    auth = bearer(create_session(conn, user_id=user.id))
    assert err(client.post("/api/auth/update-user", headers=auth, json={"email": "x@example.com"})) == (
        400, {"message": "Email can not be updated", "code": "EMAIL_CAN_NOT_BE_UPDATED"})
    assert err(client.post("/api/auth/update-user", headers=auth, json={"other": 1})) == (
        400, {"message": "No fields to update"})
    assert err(client.post("/api/auth/change-password", headers=auth,
                           json={"currentPassword": "wrong password", "newPassword": "long enough"})) == (
        400, {"message": "Invalid password", "code": "INVALID_PASSWORD"})
    assert err(client.post("/api/auth/revoke-session", headers=auth, json={})) == (
        400, {"message": "[body.token] Invalid input: expected string, received undefined",
              "code": "VALIDATION_ERROR"})


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/auth/nope"), ("GET", "/api/auth/sign-out"), ("GET", "/api/auth/get-session/"),
    ("OPTIONS", "/api/auth/get-session"),
])
def test_unknown_routes_are_empty_404s(client, method, path):
    """Unknown path, wrong method, trailing slash and plain OPTIONS: 404, empty body, no content type."""
    response = client.open(path, method=method)
    assert response.status_code == 404
    assert response.data == b""
    assert "Content-Type" not in response.headers


def test_post_get_session_is_405(client):
    """POST /get-session needs deferSessionRefresh."""
    assert err(client.post("/api/auth/get-session")) == (405, {
        "message": "POST method requires deferSessionRefresh to be enabled in session config",
        "code": "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED"})


def test_untrusted_callback_url(client):
    """An absolute callbackURL outside the trusted origins is 403 INVALID_CALLBACK_URL."""
    body = {"name": "A", "email": "cb@example.com", "password": "long enough",
            "callbackURL": "https://evil.test/x"}
    assert err(client.post(SIGN_UP, json=body)) == (403, {"message": "Invalid callbackURL",
                                                          "code": "INVALID_CALLBACK_URL"})


def test_ok_endpoint(client):
    """GET /ok answers {"ok": true}."""
    response = client.get("/api/auth/ok")
    assert (response.status_code, response.get_json()) == (200, {"ok": True})
