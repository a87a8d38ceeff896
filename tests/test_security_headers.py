"""Security headers on every response: nosniff, no referrer, HSTS in production over https, no caching of
/api/ answers (they are per user) unless a handler says otherwise."""
from __future__ import annotations

from factories import bearer, create_session, create_user
from flask import Blueprint, Response

HSTS = "Strict-Transport-Security"


def test_every_response_says_nosniff_and_no_referrer(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/health", "/api/openapi.json", "/api/auth/get-session", "/api/no-such-thing"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


def test_authenticated_json_is_never_cached(client, conn) -> None:  # type: ignore[no-untyped-def]
    """Signed-in answers (and their errors) carry Cache-Control: no-store; get-session keeps its own."""
    headers = bearer(create_session(conn, user_id=create_user(conn).id))
    for path in ("/api/credits", "/api/videos", "/api/videos/nope", "/api/credits/ledger?limit=0"):
        response = client.get(path, headers=headers)
        assert response.headers["Cache-Control"] == "no-store", (path, response.status_code)
    session = client.get("/api/auth/get-session", headers=headers)
    assert session.headers.getlist("Cache-Control") == ["no-store"]
    # The rest of /api/auth sends exactly better-auth's headers, which say nothing about caching there.
    assert "Cache-Control" not in client.get("/api/auth/ok").headers


def test_a_handlers_own_cache_control_is_kept(app) -> None:  # type: ignore[no-untyped-def]
    """The middleware adds no-store only where the handler said nothing (media links say private,
    max-age=300)."""
    probe = Blueprint("cache_probe", __name__)

    @probe.get("/api/cache-probe")
    def cacheable():  # type: ignore[no-untyped-def]
        return Response("{}", mimetype="application/json", headers={"cache-control": "private, max-age=300"})

    app.register_blueprint(probe)
    response = app.test_client().get("/api/cache-probe")
    assert response.headers.getlist("Cache-Control") == ["private, max-age=300"]
    assert app.test_client().get("/api/credits").headers.getlist("Cache-Control") == ["no-store"]


def test_hsts_in_production_over_https_only(make_app) -> None:  # type: ignore[no-untyped-def]
    production = make_app(environment="production", better_auth_url="https://api.example.com").test_client()
    secure = production.get("/health", base_url="https://api.example.com")
    assert secure.headers[HSTS] == "max-age=31536000; includeSubDomains"
    # Behind Heroku's router, gunicorn turns X-Forwarded-Proto: https into the https scheme; plain http gets
    # none (a browser ignores HSTS over http anyway, and a local http check must not pin anything).
    assert HSTS not in production.get("/health").headers
    development = make_app().test_client()
    assert HSTS not in development.get("/health", base_url="https://localhost").headers
