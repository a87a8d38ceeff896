"""Origin / CSRF checks (spec section 9): genvid keeps them on in every environment."""
from __future__ import annotations

from factories import create_session, create_user

from genvid.auth.cookies import SESSION_TOKEN, encode_cookie_value, signed_value

SIGN_IN = "/api/auth/sign-in/email"
BODY = {"email": "c@example.com", "password": "correct horse battery"}


def with_cookie(app, conn):
    user = create_user(conn, email="c@example.com")
    client = app.test_client()
    token = create_session(conn, user_id=user.id)
    client.set_cookie(SESSION_TOKEN,
                      encode_cookie_value(signed_value(app.config["GENVID"].better_auth_secret, token)))
    return client, token


def code(response):
    return response.status_code, (response.get_json() or {}).get("code")


def test_cookie_post_needs_trusted_origin(app, conn):
    """With a Cookie: missing/null Origin → MISSING_OR_NULL_ORIGIN, untrusted → INVALID_ORIGIN,
    nothing changes."""
    client, _ = with_cookie(app, conn)
    url = "/api/auth/update-user"
    assert code(client.post(url, json={"name": "X"})) == (403, "MISSING_OR_NULL_ORIGIN")
    assert code(client.post(url, json={"name": "X"}, headers={"Origin": "null"})) == (
        403, "MISSING_OR_NULL_ORIGIN")
    assert code(client.post(url, json={"name": "X"}, headers={"Origin": "http://localhost:5174"})) == (
        403, "INVALID_ORIGIN")
    assert conn.execute('SELECT name FROM "user"').fetchone()[0] == "Test User"
    assert code(client.post(url, json={"name": "X"}, headers={"Referer": "http://localhost:5173/page"})) == (
        200, None)
    assert code(client.post(url, json={"name": "Y"}, headers={"Origin": "http://localhost:8080"})) == (
        200, None)


def test_login_without_cookie(client, conn):
    """Sign-in without a cookie: Sec-Fetch rules apply; with none, only a present Origin is checked."""
    create_user(conn, email="c@example.com")
    assert code(client.post(SIGN_IN, json=BODY)) == (200, None)
    client.delete_cookie(SESSION_TOKEN)
    navigate = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert code(client.post(SIGN_IN, json=BODY, headers=navigate)) == (403,
                                                                       "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
    assert code(client.post(SIGN_IN, json=BODY, headers={"Sec-Fetch-Mode": "cors"})) == (
        403, "MISSING_OR_NULL_ORIGIN")
    assert code(client.post(SIGN_IN, json=BODY, headers={"Origin": "https://evil.test"})) == (
        403, "INVALID_ORIGIN")
    ok = client.post(SIGN_IN, json=BODY,
                     headers={"Sec-Fetch-Mode": "cors", "Origin": "http://localhost:5173"})
    assert code(ok) == (200, None)


def test_other_posts_without_cookie_are_not_checked(client):
    """sign-out from anywhere without a cookie is 200."""
    assert code(client.post("/api/auth/sign-out", json={}, headers={"Origin": "https://evil.test"})) == (
        200, None)


def test_get_with_untrusted_origin_is_served(app, conn):
    """GET is never origin-checked."""
    client, token = with_cookie(app, conn)
    body = client.get("/api/auth/get-session", headers={"Origin": "https://evil.test"}).get_json()
    assert body["session"]["token"] == token


def test_validation_comes_before_origin(app, conn):
    """A bad body is 400 even from an untrusted origin (better-call's order)."""
    client, _ = with_cookie(app, conn)
    assert code(
        client.post("/api/auth/revoke-session", json={}, headers={"Origin": "https://evil.test"})) == (
        400, "VALIDATION_ERROR")


def test_preflight_for_trusted_origins_only(client):
    """flask-cors answers preflights for trusted origins with credentials;
    untrusted origins get no CORS headers."""
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    trusted = client.options("/api/auth/sign-in/email",
                             headers={"Origin": "http://localhost:5173", **preflight})
    assert trusted.status_code == 200
    assert trusted.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert trusted.headers["Access-Control-Allow-Credentials"] == "true"
    untrusted = client.options("/api/auth/sign-in/email",
                               headers={"Origin": "https://evil.test", **preflight})
    assert "Access-Control-Allow-Origin" not in untrusted.headers


def test_browsers_may_read_the_bearer_and_jwt_headers(client):
    """A trusted origin may read set-auth-token and set-auth-jwt: one Access-Control-Expose-Headers names them
    beside flask-cors's names; without an Origin they are still named, as better-auth names them."""
    origin = {"Origin": "http://localhost:5173"}
    signed_up = client.post("/api/auth/sign-up/email", headers=origin,
                            json={"name": "A", "email": "expose@example.com", "password": "password123"})
    assert signed_up.status_code == 200 and signed_up.headers["set-auth-token"]
    exposed = signed_up.headers.getlist("Access-Control-Expose-Headers")
    assert len(exposed) == 1
    assert {"set-auth-token", "X-Request-ID"} <= {name.strip() for name in exposed[0].split(",")}

    session = client.get("/api/auth/get-session", headers=origin)
    assert session.headers["set-auth-jwt"]
    assert "set-auth-jwt" in {
        name.strip() for name in session.headers["Access-Control-Expose-Headers"].split(",")}
    without_origin = client.get("/api/auth/get-session")
    assert without_origin.headers["Access-Control-Expose-Headers"] == "set-auth-jwt"
    assert "Access-Control-Allow-Origin" not in without_origin.headers


def test_cookie_session_reaches_current_user(app, conn):
    """current_user() reads the signed session cookie as well as bearer tokens."""
    from genvid.auth.current import current_user, optional_user
    client, token = with_cookie(app, conn)
    cookie = client.get_cookie(SESSION_TOKEN).value
    with app.test_request_context("/api/x", headers={"Cookie": f"{SESSION_TOKEN}={cookie}"}):
        assert current_user().email == "c@example.com"
    with app.test_request_context("/api/x", headers={"Cookie": f"{SESSION_TOKEN}={token}"}):
        assert optional_user() is None          # an unsigned token in the cookie is no session
