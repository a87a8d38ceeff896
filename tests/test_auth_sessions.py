"""Session lifetime, refresh, freshness and cookie signatures (spec sections 6 and 8),
on a controlled clock."""
from __future__ import annotations

from datetime import timedelta

import pytest
from factories import DEFAULT_PASSWORD, bearer, create_user

from genvid.auth import cookies
from genvid.auth.serialize import js_date

ORIGIN = {"Origin": "http://localhost:5173"}
HOUR = 3600


def sign_in(client, email, **extra):
    return client.post("/api/auth/sign-in/email", headers=ORIGIN,
                       json={"email": email, "password": DEFAULT_PASSWORD, **extra})


def test_dont_remember_signature_matches_better_auth():
    """The dont_remember value signed with the reference secret is byte-identical to better-auth's."""
    value = cookies.encode_cookie_value(
        cookies.signed_value("conformance-reference-secret-7f3a9c2e4b1d8f60", "true"))
    assert value == "true.Z9pau39JQ7GnNtsMzfdV%2F8l%2BDmD6ppzEOwsEnga%2F2Mc%3D"


def test_tampered_or_unsigned_cookies_are_no_session(app, client, conn):
    """A bad signature or a bare token in the cookie reads as null and sets no cookie."""
    create_user(conn, email="t@example.com")
    token = sign_in(client, "t@example.com").get_json()["token"]
    fresh = app.test_client()
    signed = cookies.signed_value(app.config["GENVID"].better_auth_secret, token)
    flip = {True: "A", False: "B"}
    other_sig = signed[:-2] + flip[signed[-2] != "A"] + "="
    other_token = token[:-1] + flip[token[-1] != "A"] + signed[32:]
    for forged in (token, other_sig, other_token, "x." + signed.split(".")[1]):
        fresh.set_cookie(cookies.SESSION_TOKEN, forged)
        response = fresh.get("/api/auth/get-session")
        assert response.get_json() is None and not response.headers.getlist("Set-Cookie"), forged
    fresh.set_cookie(cookies.SESSION_TOKEN, signed)         # not URL-encoded: accepted too
    assert fresh.get("/api/auth/get-session").get_json()["session"]["token"] == token
    fresh.set_cookie("__Secure-" + cookies.SESSION_TOKEN, signed)
    fresh.delete_cookie(cookies.SESSION_TOKEN)
    assert fresh.get("/api/auth/get-session").get_json() is None


def test_https_base_url_gives_secure_prefixed_cookies(make_app, conn):
    """With an https BETTER_AUTH_URL the cookies are `__Secure-` prefixed and Secure;
    the plain name is ignored."""
    client = make_app(better_auth_url="https://auth.example.com").test_client()
    create_user(conn, email="s@example.com")
    response = sign_in(client, "s@example.com")
    token = response.get_json()["token"]
    [header] = response.headers.getlist("Set-Cookie")
    value = header.split(";")[0].split("=", 1)[1]
    assert header == (
        f"__Secure-better-auth.session_token={value}; Max-Age=604800; Path=/; HttpOnly; Secure; "
        "SameSite=Lax")
    assert client.get("/api/auth/get-session").get_json()["session"]["token"] == token
    other = make_app(better_auth_url="https://auth.example.com").test_client()
    other.set_cookie(cookies.SESSION_TOKEN, value)
    assert other.get("/api/auth/get-session").get_json() is None
    cleared = client.post("/api/auth/sign-out", headers={"Origin": "https://auth.example.com"}, json={})
    assert cleared.headers.getlist("Set-Cookie")[0] == (
        "__Secure-better-auth.session_token=; Max-Age=0; Path=/; "
        "HttpOnly; Secure; SameSite=Lax")


def test_refresh_after_a_day_not_before(client, conn, frozen_clock):
    """Aged 23h59m the session is untouched; aged 25h it is pushed to now + 7 days and the cookie re-sent."""
    clock = frozen_clock
    create_user(conn, email="r@example.com")
    body = sign_in(client, "r@example.com").get_json()
    clock.advance(24 * HOUR - 60)
    response = client.get("/api/auth/get-session")
    assert response.get_json()["session"]["expiresAt"] == js_date(
        clock.moment - timedelta(seconds=24 * HOUR - 60)
        + timedelta(days=7))
    assert not response.headers.getlist("Set-Cookie")
    now = clock.advance(HOUR + 60)
    response = client.get("/api/auth/get-session")
    session = response.get_json()["session"]
    assert session["expiresAt"] == js_date(now + timedelta(days=7)) and session["updatedAt"] == js_date(now)
    assert response.headers.getlist("Set-Cookie")[0].endswith(
        "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax")
    assert response.headers["set-auth-token"].startswith(body["token"] + ".")
    stored = conn.execute('SELECT "expiresAt" FROM session WHERE token = %s', (body["token"],)).fetchone()[0]
    assert js_date(stored) == js_date(now + timedelta(days=7))


def test_no_refresh_with_disable_refresh_or_dont_remember(client, conn, frozen_clock):
    """disableRefresh=true and a valid dont_remember cookie both keep the expiry as it was."""
    clock = frozen_clock
    create_user(conn, email="d@example.com")
    response = sign_in(client, "d@example.com", rememberMe=False)
    set_cookies = response.headers.getlist("Set-Cookie")
    assert len(set_cookies) == 2 and "Max-Age" not in set_cookies[0]
    assert set_cookies[1].startswith("better-auth.dont_remember=true.")
    assert response.get_json()["token"]
    clock.advance(23 * HOUR)
    session = client.get("/api/auth/get-session").get_json()["session"]
    assert session["expiresAt"] == js_date(clock.moment - timedelta(hours=23) + timedelta(days=1))
    clock.advance(2 * HOUR)                          # past the 1-day lifetime: gone
    expired = client.get("/api/auth/get-session")
    assert expired.get_json() is None and len(expired.headers.getlist("Set-Cookie")) == 3
    assert conn.execute("SELECT count(*) FROM session").fetchone()[0] == 0


def test_expired_session_is_deleted_and_cookies_cleared(client, conn, frozen_clock):
    """After 7 days get-session answers null with the three clearing cookies and the row is gone."""
    clock = frozen_clock
    create_user(conn, email="e@example.com")
    sign_in(client, "e@example.com")
    clock.advance(7 * 24 * HOUR + 1)
    response = client.get("/api/auth/get-session", query_string={"disableRefresh": "true"})
    assert response.get_json() is None
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == [
        "better-auth.session_token", "better-auth.session_data", "better-auth.dont_remember"]
    assert conn.execute("SELECT count(*) FROM session").fetchone()[0] == 0


def test_fresh_age_only_guards_list_sessions(client, conn, frozen_clock):
    """A 25-hour-old session may update the user but not list sessions (403 SESSION_NOT_FRESH)."""
    clock = frozen_clock
    create_user(conn, email="f@example.com")
    token = sign_in(client, "f@example.com").get_json()["token"]
    listed = client.get("/api/auth/list-sessions", headers=bearer(token)).get_json()
    assert [s["token"] for s in listed] == [token]
    clock.advance(25 * HOUR)
    stale = client.get("/api/auth/list-sessions", headers=bearer(token))
    assert (stale.status_code, stale.get_json()) == (403, {"message": "Session is not fresh",
                                                           "code": "SESSION_NOT_FRESH"})
    assert client.post("/api/auth/update-user", headers={**ORIGIN, **bearer(token)},
                       json={"name": "New"}).status_code == 200


def test_revocations(client, conn):
    """revoke-other-sessions keeps this one; revoke-session of the current token clears cookies."""
    create_user(conn, email="v@example.com")
    first = sign_in(client, "v@example.com").get_json()["token"]
    second = sign_in(client, "v@example.com").get_json()["token"]
    other = client.post("/api/auth/revoke-other-sessions", headers={**ORIGIN, **bearer(second)}, json={})
    assert other.get_json() == {"status": True} and not other.headers.getlist("Set-Cookie")
    assert client.get("/api/auth/get-session", headers=bearer(first)).get_json() is None
    current = client.post("/api/auth/revoke-session", headers={**ORIGIN, **bearer(second)},
                          json={"token": second})
    assert current.get_json() == {"status": True} and len(current.headers.getlist("Set-Cookie")) == 3
    assert conn.execute("SELECT count(*) FROM session").fetchone()[0] == 0


def test_change_password_with_revoke_issues_a_new_session(client, conn):
    """revokeOtherSessions deletes every session and answers a new token and cookie;
    the new password works."""
    create_user(conn, email="p@example.com")
    token = sign_in(client, "p@example.com").get_json()["token"]
    response = client.post("/api/auth/change-password", headers={**ORIGIN, **bearer(token)}, json={
        "currentPassword": DEFAULT_PASSWORD, "newPassword": "brand new password",
        "revokeOtherSessions": True})
    body = response.get_json()
    assert list(body) == ["token", "user"] and body["token"] != token
    assert response.headers["set-auth-token"].startswith(body["token"] + ".")
    assert client.get("/api/auth/get-session", headers=bearer(token)).get_json() is None
    again = client.post("/api/auth/sign-in/email", headers=ORIGIN,
                        json={"email": "p@example.com", "password": "brand new password"})
    assert again.status_code == 200


def test_ids_are_32_uniform_characters_of_better_auths_alphabet():
    """Every character position draws evenly from [A-Za-z0-9] (one randbelow over the whole id space)."""
    from collections import Counter

    from genvid.auth.ids import ALPHABET, generate_id
    ids = [generate_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and set(i) <= set(ALPHABET) for i in ids)
    counts = Counter("".join(ids))
    expected = 2000 * 32 / len(ALPHABET)                  # about 1032 each
    assert set(counts) == set(ALPHABET)
    assert all(0.8 * expected < n < 1.2 * expected for n in counts.values())
    first = Counter(i[0] for i in ids)                     # the leading character is not biased either
    assert len(first) == len(ALPHABET)


def test_the_system_clock_reads_utc_in_whole_milliseconds_as_a_js_date_holds_it() -> None:
    from datetime import UTC, datetime, timedelta

    from genvid.clock import system_now
    before = datetime.now(UTC)
    now = system_now()
    after = datetime.now(UTC)
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert now.microsecond % 1000 == 0
    assert before - timedelta(milliseconds=1) < now <= after


def test_parsed_cookie_headers_are_shared_read_only() -> None:
    """Requests with the same Cookie header share one parse (get-session polling), so none may change it."""
    from genvid.auth import context
    parsed = context._parsed_cookie_header("better-auth.session_token=abc.def; theme=dark")
    assert parsed is context._parsed_cookie_header("better-auth.session_token=abc.def; theme=dark")
    assert parsed["theme"] == "dark"
    with pytest.raises(TypeError):
        parsed["theme"] = "light"
