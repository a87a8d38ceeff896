"""get-session answered before Flask (genvid/auth/get_session.py) is the same endpoint as the Flask view: the
same bytes, the same errors, the same request id and access line, and never a stale memo."""
from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest
from conftest import TEST_SECRET, start_app
from factories import bearer, create_session, create_user

from genvid.auth import cookies
from genvid.auth.serialize import js_date

PATH = "/api/auth/get-session"
# Flask's view answers a request with an Origin; flask-cors adds nothing for one it does not trust, so the
# two answers can be compared header for header.
TO_FLASK = {"Origin": "https://untrusted.example"}
HOUR = 3600


def answer(response) -> tuple[int, bytes, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """What a client can see of a response, the request id (new per request) left out."""
    headers = sorted((name, value) for name, value in response.headers.items() if name != "X-Request-ID")
    return response.status_code, response.get_data(), headers


@pytest.mark.parametrize("credential", ["bearer", "cookie", "none", "unknown token", "expired"])
def test_the_fast_path_answers_as_the_flask_view(app, client, conn, credential, frozen_clock):
    """Signed in by bearer or cookie, signed out, an unknown token (cookies cleared), an expired one (its row
    deleted): byte for byte the answer the Flask view gives."""
    # frozen_clock: one second for both, the same JWT
    user = create_user(conn)
    token = create_session(conn, user_id=user.id)
    if credential == "cookie":
        signed = cookies.encode_cookie_value(cookies.signed_value(TEST_SECRET, token))
        client.set_cookie(cookies.SESSION_TOKEN, signed)

    def presented() -> dict[str, str]:
        if credential == "none":
            return {}
        if credential == "unknown token":
            return bearer("x" * 32)
        if credential == "expired":             # a row of its own per request: the first answer deletes it
            return bearer(create_session(conn, user_id=user.id, expires_in=-1))
        return bearer(token) if credential == "bearer" else {}

    fast = client.get(PATH, headers=presented())
    slow = client.get(PATH, headers={**presented(), **TO_FLASK})
    assert answer(fast) == answer(slow)
    if credential in ("bearer", "cookie"):
        assert fast.get_json()["session"]["token"] == token and fast.headers["set-auth-jwt"]
    else:
        assert fast.get_json() is None
        assert len(fast.headers.getlist("Set-Cookie")) == (0 if credential == "none" else 3)
    if credential == "expired":
        assert conn.execute("SELECT count(*) FROM session").fetchone()[0] == 1      # only `token` is left


def test_a_refresh_is_answered_alike_on_both_paths(app, client, conn, frozen_clock):
    """A session a day old is pushed to now + 7 days, with the cookie and set-auth-token re-sent, on both."""
    clock = frozen_clock
    user = create_user(conn)
    tokens = [create_session(conn, user_id=user.id) for _ in range(2)]
    now = clock.advance(25 * HOUR)
    fast = client.get(PATH, headers=bearer(tokens[0]))
    slow = client.get(PATH, headers={**bearer(tokens[1]), **TO_FLASK})
    for response, token in ((fast, tokens[0]), (slow, tokens[1])):
        assert response.get_json()["session"]["expiresAt"] == js_date(now + timedelta(days=7))
        assert response.headers["set-auth-token"].startswith(token + ".")
        assert response.headers["Access-Control-Expose-Headers"] == "set-auth-token, set-auth-jwt"
    assert [name for name, _ in answer(fast)[2]] == [name for name, _ in answer(slow)[2]]


def test_a_changed_row_is_never_answered_from_memory(app, client, conn, frozen_clock):
    """The body and the JWT are remembered per row values: a new name shows at once, in the same second."""
    user = create_user(conn, name="Before")
    auth = bearer(create_session(conn, user_id=user.id))
    first = client.get(PATH, headers=auth)
    assert first.get_json()["user"]["name"] == "Before"
    renamed = client.post("/api/auth/update-user", json={"name": "After"}, headers=auth)
    assert renamed.status_code == 200
    second = client.get(PATH, headers=auth)
    assert second.get_json()["user"]["name"] == "After"
    assert jwt.decode(second.headers["set-auth-jwt"], options={"verify_signature": False})["name"] == "After"
    assert second.headers["set-auth-jwt"] != first.headers["set-auth-jwt"]


def test_errors_before_flask_take_the_apps_error_handlers(make_app, conn):
    """The rate limit counts get-session once a request on the fast path too, and its 429 is better-auth's."""
    client = make_app(rate_limit=True).test_client()
    ip = {"X-Forwarded-For": "203.0.113.9"}
    statuses = [client.get(PATH, headers=ip).status_code for _ in range(100)]
    assert statuses == [200] * 100
    limited = client.get(PATH, headers=ip)
    assert limited.status_code == 429
    assert limited.get_json() == {"message": "Too many requests. Please try again later."}
    assert 1 <= int(limited.headers["X-Retry-After"]) <= 10
    assert limited.headers["X-Request-ID"] and limited.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(PATH, headers={"X-Forwarded-For": "203.0.113.10"}).status_code == 200


def test_answers_before_flask_carry_the_request_id_and_the_access_line(capsys, config):
    """RequestLifecycle wraps the fast path: the client's request id comes back,
    the access line is written."""
    client = start_app(config.with_overrides(log_level="INFO")).test_client()
    capsys.readouterr()
    response = client.get(PATH, headers={"X-Request-ID": "poll-1"})
    assert response.status_code == 200 and response.get_json() is None
    assert response.headers["X-Request-ID"] == "poll-1"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "genvid.access"]
    assert [(line["request_id"], line["path"], line["status"]) for line in access] == [("poll-1", PATH, 200)]


def test_only_a_plain_get_is_answered_before_flask(client):
    """A trailing slash is an unknown route, HEAD is Flask's GET without a body, POST needs
    deferSessionRefresh; all of them are Flask's."""
    assert client.get(PATH + "/").status_code == 404
    head = client.head(PATH)
    assert head.status_code == 200 and head.get_data() == b"" and head.headers["Cache-Control"] == "no-store"
    assert client.post(PATH, json={}).status_code == 405
