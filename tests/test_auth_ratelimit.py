"""Rate limits (spec section 10) are counted in Redis, so separate web processes share them."""
from __future__ import annotations

from genvid.auth.ratelimit import client_ip

BODY = {"email": "nobody@example.com", "password": "whatever1"}


def test_two_apps_share_the_sign_in_budget(make_app):
    """Three sign-ins per 10 s per IP across two apps; the 4th is 429 with X-Retry-After;
    other IPs are separate."""
    first = make_app(rate_limit=True).test_client()
    second = make_app(rate_limit=True).test_client()
    ip = {"X-Forwarded-For": "203.0.113.7"}
    statuses = [client.post("/api/auth/sign-in/email", json=BODY, headers=ip).status_code
                for client in (first, second, first)]
    assert statuses == [401, 401, 401]
    limited = second.post("/api/auth/sign-in/email", json=BODY, headers=ip)
    assert limited.status_code == 429
    assert limited.get_json() == {"message": "Too many requests. Please try again later."}
    assert 1 <= int(limited.headers["X-Retry-After"]) <= 10
    assert second.post("/api/auth/sign-in/email", data="not json", content_type="application/json",
                       headers=ip).status_code == 429          # before body validation
    other = first.post("/api/auth/sign-in/email", json=BODY, headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 401
    assert first.get("/api/auth/ok", headers=ip).status_code == 200    # another path, another bucket


def test_window_expiry_lets_requests_through_again(make_app, redis_client):
    """When the window's key expires the same client passes again."""
    client = make_app(rate_limit=True).test_client()
    ip = {"X-Forwarded-For": "198.51.100.1"}
    for _ in range(3):
        client.post("/api/auth/sign-up/email", json={}, headers=ip)
    assert client.post("/api/auth/sign-up/email", json={}, headers=ip).status_code == 429
    for key in redis_client.scan_iter("genvid:auth:ratelimit:*"):
        redis_client.delete(key)          # what the TTL does after 10 s
    assert client.post("/api/auth/sign-up/email", json={}, headers=ip).status_code == 400


def test_off_when_disabled(client):
    """RATE_LIMIT=off (the test default) never answers 429."""
    assert {client.post("/api/auth/sign-in/email", json=BODY).status_code for _ in range(5)} == {401}


def test_client_ip_honours_trusted_proxy_count():
    """The N-th address from the right is the client; spoofed entries to its left are ignored."""
    assert client_ip("1.1.1.1, 10.0.0.1", trusted_proxy_count=1) == "10.0.0.1"
    assert client_ip("1.1.1.1, 10.0.0.1", trusted_proxy_count=2) == "1.1.1.1"
    assert client_ip("10.0.0.1", trusted_proxy_count=2) == ""
    assert client_ip("not-an-ip", trusted_proxy_count=1) == ""
    assert client_ip(None, trusted_proxy_count=1) == ""


def test_without_redis_guarded_routes_refuse_and_the_rest_fail_open(make_app, conn, tmp_path, capsys,
                                                                    monkeypatch):
    """Redis down, RATE_LIMIT on. The strict rules guard password guessing and mail bombing (sign-in, sign-up,
    password and email changes, reset and verification mails): uncounted, those are refused with 503 and
    Retry-After rather than let through unlimited. Everything else (get-session above all) is let through and
    the outage logged: its 100-per-10-s rule guards nothing secret, and refusing it would sign every user out
    while Redis is away. Never a 500."""
    from factories import bearer, create_session, create_user

    from genvid.auth import ratelimit
    monkeypatch.setattr(ratelimit, "_last_logged", float("-inf"))     # the outage line is logged now and then
    user = create_user(conn)
    client = make_app(rate_limit=True, redis_url=f"unix://{tmp_path}/no-redis.sock?db=0",
                      log_level="WARNING").test_client()
    capsys.readouterr()
    session = client.get("/api/auth/get-session", headers=bearer(create_session(conn, user_id=user.id)))
    assert session.status_code == 200 and session.get_json()["user"]["id"] == user.id
    assert client.get("/api/auth/ok").status_code == 200
    for path in ("/sign-in/email", "/sign-up/email", "/request-password-reset", "/change-password"):
        refused = client.post(f"/api/auth{path}", json=BODY, headers={"Origin": "http://localhost:5173"})
        assert refused.status_code == 503, (path, refused.data)
        assert refused.get_json() == {
            "message": "This endpoint is rate limited and the limiter's store (Redis) "
                       "is unavailable; try again shortly.",
                                      "code": "SERVICE_UNAVAILABLE"}
        assert int(refused.headers["Retry-After"]) >= 1
    logged = capsys.readouterr().out
    assert "rate limiter unavailable" in logged
