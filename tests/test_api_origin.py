"""CSRF beyond /api/auth: a cookie-authenticated unsafe request anywhere under /api must come from a trusted
origin (Origin, else Referer), as better-auth demands on its own routes. Bearer tokens and JWTs cannot be sent
by another site's page, so such calls are exempt, and so are the signed webhooks."""
from __future__ import annotations

import re
from typing import Any

import pytest
from factories import bearer, create_session
from videos_fixtures import Studio

from genvid.auth.cookies import SESSION_TOKEN, encode_cookie_value, signed_value

TRUSTED = "http://localhost:5173"
EVIL = "https://evil.example"
UNSAFE = ("post", "put", "patch", "delete")
EXEMPT_PREFIXES = ("/api/auth/", "/api/webhooks/")


def cookie_client(studio: Studio, token: str) -> Any:
    client = studio.app.test_client()
    secret = studio.app.config["GENVID"].better_auth_secret
    client.set_cookie(SESSION_TOKEN, encode_cookie_value(signed_value(secret, token)))
    return client


def _token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_cookie_post_from_another_site_is_refused_and_charges_nothing(local_studio: Studio) -> None:
    user_id, headers = local_studio.user(credits=10)
    client = cookie_client(local_studio, _token_of(headers))
    avatar_id, voice_id = local_studio.first_ids()
    body = {"avatar_id": avatar_id, "voice_id": voice_id, "script": "Hello"}

    refused = client.post("/api/videos", json=body, headers={"Origin": EVIL})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "INVALID_ORIGIN"
    missing = client.post("/api/videos", json=body)
    assert missing.status_code == 403 and missing.get_json()["error"]["code"] == "MISSING_OR_NULL_ORIGIN"
    null = client.post("/api/videos", json=body, headers={"Origin": "null"})
    assert null.status_code == 403 and null.get_json()["error"]["code"] == "MISSING_OR_NULL_ORIGIN"
    assert local_studio.balance(user_id) == 10
    assert local_studio.conn.execute("SELECT count(*) FROM videos").fetchone()[0] == 0

    assert client.post("/api/videos", json=body, headers={"Origin": TRUSTED}).status_code == 202
    assert client.post("/api/videos", json=body, headers={"Referer": f"{TRUSTED}/studio"}).status_code == 202
    assert local_studio.balance(user_id) == 8


def test_cookie_delete_from_another_site_is_refused(local_studio: Studio) -> None:
    _, headers = local_studio.user(credits=10)
    video_id = local_studio.create(headers).get_json()["data"]["id"]
    client = cookie_client(local_studio, _token_of(headers))
    assert client.delete(f"/api/videos/{video_id}", headers={"Origin": EVIL}).status_code == 403
    assert local_studio.video(video_id).status.value == "queued"
    # reads are safe
    assert client.get(f"/api/videos/{video_id}", headers={"Origin": EVIL}).status_code == 200


def test_bearer_and_jwt_calls_are_exempt(local_studio: Studio) -> None:
    """Another site cannot make a browser send an Authorization header (CORS preflight),
    so no Origin needed."""
    user_id, headers = local_studio.user(credits=10)
    assert local_studio.create(headers, extra_headers={"Origin": EVIL}).status_code == 202
    jwt = local_studio.client.get("/api/auth/token", headers=headers).get_json()["token"]
    assert local_studio.create({"Authorization": f"Bearer {jwt}"},
                               extra_headers={"Origin": EVIL}).status_code == 202
    assert local_studio.balance(user_id) == 8


def test_every_unsafe_operation_in_the_document_checks_the_origin(local_studio: Studio) -> None:
    """Derived from /api/openapi.json, so a new endpoint is covered the day it is documented: every unsafe
    cookie call from an untrusted origin is 403 before the handler does anything."""
    _, headers = local_studio.user(credits=10)
    client = cookie_client(local_studio, _token_of(headers))
    document = local_studio.client.get("/api/openapi.json").get_json()
    checked = []
    for path, operations in document["paths"].items():
        if path.startswith(EXEMPT_PREFIXES):
            continue
        for method in operations:
            if method not in UNSAFE:
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            response = client.open(url, method=method.upper(), json={}, headers={"Origin": EVIL})
            assert response.status_code == 403, (method, path, response.get_json())
            assert response.get_json()["error"]["code"] == "INVALID_ORIGIN"
            checked.append(f"{method} {path}")
    assert len(checked) >= 5, checked


@pytest.mark.parametrize("path", ["/api/webhooks/stripe", "/api/webhooks/heygen"])
def test_signed_webhooks_are_not_origin_checked(local_studio: Studio, path: str) -> None:
    """Webhooks prove themselves with a signature; a stray cookie and Origin change nothing about that."""
    _, headers = local_studio.user(credits=0)
    client = cookie_client(local_studio, _token_of(headers))
    response = client.post(path, data=b"{}", content_type="application/json", headers={"Origin": EVIL})
    assert response.status_code != 403
    assert response.get_json()["error"]["code"] != "INVALID_ORIGIN"


def test_a_bearer_with_a_stray_cookie_is_still_exempt(local_studio: Studio) -> None:
    """The bearer token is what authenticates (it wins over the cookie), so no Origin is needed."""
    _, headers = local_studio.user(credits=10)
    other = create_session(local_studio.conn, user_id=local_studio.user(credits=0)[0])
    client = cookie_client(local_studio, other)
    avatar_id, voice_id = local_studio.first_ids()
    response = client.post("/api/videos", json={"avatar_id": avatar_id, "voice_id": voice_id, "script": "Hi"},
                           headers={**bearer(_token_of(headers)), "Origin": EVIL})
    assert response.status_code == 202
