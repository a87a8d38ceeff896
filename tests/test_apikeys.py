"""API keys on genvid's own /api/: an x-api-key header authenticates exactly the calls its permissions allow,
charges one use per call (quota, refill, rate limit: driven by the auth clock, not by waiting), and opens
nothing under /api/auth. The better-auth side of the same rules is in tests/test_apikeys_interop.py."""
from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import requests
from factories import bearer, create_session, create_user
from flask import Flask

import db.auth_apikeys
from genvid import cli, clock
from genvid.auth.apikeys import NewKey, create_api_key, hash_key, options_from
from genvid.billing import ledger
from genvid.clock import FrozenClock

ORIGIN = {"Origin": "http://localhost:5173"}


@pytest.fixture
def frozen(app: Flask) -> Iterator[FrozenClock]:
    """genvid's clock, frozen at a known moment (quotas and refills are counted from it)."""
    frozen_at = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    clock.install(frozen_at)
    yield frozen_at
    clock.install(None)


@pytest.fixture
def owner(conn: psycopg.Connection) -> Any:
    return create_user(conn, email="owner@example.com", name="Owner")


@pytest.fixture
def make_key(app: Flask, conn: psycopg.Connection, owner: Any) -> Callable[..., str]:
    """make_key(**server_fields) makes a key for owner as the server may (any permissions, quota, limits)."""
    def make(**fields: Any) -> str:
        _, key = create_api_key(conn, user_id=owner.id, request=NewKey(**fields),
                                options=options_from(app.config["GENVID"]), now=clock.now())
        return key
    return make


def row_of(conn: psycopg.Connection, key: str) -> Any:
    return db.auth_apikeys.get_api_key_by_hash(conn, key_hash=hash_key(key))


def with_key(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def test_a_key_made_over_http_calls_the_api_as_its_owner(client, conn, owner):
    """A key the user makes at /api/auth/api-key/create gets every genvid permission and acts as the user."""
    session = bearer(create_session(conn, user_id=owner.id))
    made = client.post("/api/auth/api-key/create", json={"name": "ci"}, headers={**session, **ORIGIN})
    assert made.status_code == 200, made.get_json()
    key = made.get_json()["key"]
    ledger.grant(conn, user_id=owner.id, credits=7, reason="test_grant", reference="k1")
    credits = client.get("/api/credits", headers=with_key(key))
    assert credits.status_code == 200 and credits.get_json()["data"]["balance"] == 7
    assert client.get("/api/videos", headers=with_key(key)).get_json()["data"] == []
    assert client.get("/api/webhooks/endpoints", headers=with_key(key)).status_code == 200
    assert row_of(conn, key).request_count == 3


def test_a_key_without_the_permission_is_refused_and_charged_nothing(client, conn, make_key):
    """A credits:read key may read credits but not create or list videos (403 API_KEY_FORBIDDEN), and a
    refusal costs none of its uses."""
    key = make_key(permissions={"credits": ["read"]}, remaining=5)
    refused = client.post("/api/videos", json={"avatar_id": "a", "voice_id": "v", "script": "Hi"},
                          headers=with_key(key))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "API_KEY_FORBIDDEN"
    assert "videos:create" in refused.get_json()["error"]["message"]
    assert client.get("/api/videos", headers=with_key(key)).status_code == 403
    assert row_of(conn, key).remaining == 5
    assert client.get("/api/credits", headers=with_key(key)).status_code == 200
    assert row_of(conn, key).remaining == 4


def test_a_key_opens_no_account_change_and_no_billing(client, conn, owner, make_key):
    """/api/auth never reads x-api-key: no profile change, no session, no new key; billing refuses keys."""
    key = make_key()
    changed = client.post("/api/auth/update-user", json={"name": "Mallory"}, headers=with_key(key))
    assert changed.status_code == 401
    assert conn.execute('SELECT name FROM "user" WHERE id = %s', (owner.id,)).fetchone()[0] == "Owner"
    assert client.get("/api/auth/get-session", headers=with_key(key)).get_json() is None
    assert client.post("/api/auth/api-key/create", json={}, headers=with_key(key)).status_code == 401
    checkout = client.post("/api/billing/checkout", json={"pack_id": "starter"}, headers=with_key(key))
    assert checkout.status_code == 403
    assert checkout.get_json()["error"]["code"] == "API_KEY_NOT_ALLOWED"
    assert row_of(conn, key).request_count == 0


def test_a_presented_key_is_judged_alone(client, conn, owner):
    """A wrong key is 401 INVALID_API_KEY even beside a valid session: the key is the credential asked for."""
    session = bearer(create_session(conn, user_id=owner.id))
    answer = client.get("/api/credits", headers={**session, "x-api-key": "gv_" + "x" * 64})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == {"code": "INVALID_API_KEY", "message": "Invalid API key.",
                                          "details": None}


def test_disabled_expired_and_orphaned_keys(client, conn, frozen, make_key, owner):
    """Disabled: 401 KEY_DISABLED. Past its expiry: 401 KEY_EXPIRED once, then the key is gone. A key whose
    owner was deleted authenticates no one."""
    disabled = make_key()
    conn.execute('UPDATE apikey SET enabled = false WHERE "key" = %s', (hash_key(disabled),))
    assert client.get("/api/credits",
                      headers=with_key(disabled)).get_json()["error"]["code"] == "KEY_DISABLED"
    expiring = make_key(expires_in=86400)
    assert client.get("/api/credits", headers=with_key(expiring)).status_code == 200
    frozen.advance(86400 + 1)
    expired = client.get("/api/credits", headers=with_key(expiring))
    assert (expired.status_code, expired.get_json()["error"]["code"]) == (401, "KEY_EXPIRED")
    assert row_of(conn, expiring) is None
    orphan = make_key()
    conn.execute('DELETE FROM "user" WHERE id = %s', (owner.id,))
    assert client.get("/api/credits",
                      headers=with_key(orphan)).get_json()["error"]["code"] == "INVALID_API_KEY"


def test_the_rate_limit_refuses_until_a_window_has_passed(client, frozen, make_key):
    """rateLimitMax 2 per 60 s window: the third call is 429 RATE_LIMITED with Retry-After and tryAgainIn; the
    count only restarts once a whole window passed after the last counted call."""
    key = make_key(rate_limit_max=2, rate_limit_time_window=60_000)
    assert [client.get("/api/credits", headers=with_key(key)).status_code for _ in range(2)] == [200, 200]
    limited = client.get("/api/credits", headers=with_key(key))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert limited.get_json()["error"]["code"] == "RATE_LIMITED"
    assert limited.get_json()["error"]["details"] == {"tryAgainIn": 60_000}
    frozen.advance(30)
    assert client.get("/api/credits", headers=with_key(key)).get_json()["error"]["details"] == {
        "tryAgainIn": 30_000}
    frozen.advance(30.001)
    assert client.get("/api/credits", headers=with_key(key)).status_code == 200


def test_the_quota_counts_down_refills_and_ends(client, conn, frozen, make_key):
    """remaining 2 without refill: two calls, then 429 USAGE_EXCEEDED and the key is deleted. remaining 1 with
    a refill of 3 per hour: refused until the hour has passed, then refilled (3, this call included)."""
    once = make_key(remaining=2)
    statuses = [client.get("/api/credits", headers=with_key(once)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/credits", headers=with_key(once)).get_json()["error"]["code"] == "INVALID_API_KEY"
    refilled = make_key(remaining=1, refill_amount=3, refill_interval=3_600_000)
    assert client.get("/api/credits", headers=with_key(refilled)).status_code == 200
    empty = client.get("/api/credits", headers=with_key(refilled))
    assert (empty.status_code, empty.get_json()["error"]["code"]) == (429, "USAGE_EXCEEDED")
    frozen.advance(3600.001)
    assert client.get("/api/credits", headers=with_key(refilled)).status_code == 200
    assert row_of(conn, refilled).remaining == 2


def test_concurrent_calls_never_overrun_the_quota(app, live_server, conn, make_key):
    """30 calls at once on a key with 10 uses left (rate limit off): exactly 10 succeed; the others find it
    used up (429 USAGE_EXCEEDED, which deletes it) or already deleted (401)."""
    key = make_key(remaining=10, rate_limit_enabled=False)
    base = live_server(app)
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{base}/api/credits", headers=with_key(key),
                                                        timeout=30).status_code, range(30)))
    assert statuses.count(200) == 10
    assert set(statuses) <= {200, 429, 401} and 429 in statuses
    assert row_of(conn, key) is None


def test_keys_are_stored_hashed_shown_once_and_listed_by_start(client, conn, owner):
    """The plain key appears in create's answer only: the row holds its SHA-256 and its first 6 characters."""
    session = {**bearer(create_session(conn, user_id=owner.id)), **ORIGIN}
    created = client.post("/api/auth/api-key/create", json={"name": "ci"}, headers=session).get_json()
    key = created["key"]
    stored = conn.execute("SELECT * FROM apikey").fetchall()
    assert len(stored) == 1 and all(key not in str(value) for value in stored[0])
    assert row_of(conn, key).start == key[:6] == created["start"]
    listed = client.get("/api/auth/api-key/list", headers=session).get_json()["apiKeys"]
    assert [item["start"] for item in listed] == [key[:6]] and "key" not in listed[0]


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(list(args))
    return code, out.getvalue()


def test_operators_set_quota_and_permissions_from_the_command_line(app, client, conn, owner, monkeypatch):
    """`genvid apikeys create` makes a narrow, metered key (printed once); update disables it;
    revoke deletes."""
    for name, value in (("DATABASE_URL", app.config["GENVID"].database_url),
                        ("REDIS_URL", app.config["GENVID"].redis_url),
                        ("BETTER_AUTH_SECRET", app.config["GENVID"].better_auth_secret),
                        ("ENCRYPTION_KEY", app.config["GENVID"].encryption_key)):
        monkeypatch.setenv(name, value)
    code, out = run_cli("apikeys", "create", "owner@example.com", "--name", "reporting",
                        "--permissions", "credits:read", "--remaining", "3")
    assert code == 0
    key = out.strip().splitlines()[-1]
    row = row_of(conn, key)
    assert (row.name, row.remaining, row.permissions) == ("reporting", 3, '{"credits":["read"]}')
    assert client.get("/api/credits", headers=with_key(key)).status_code == 200
    assert client.get("/api/videos", headers=with_key(key)).status_code == 403
    assert run_cli("apikeys", "list", "owner@example.com")[1].startswith(f"{row.id}  {key[:6]}...")
    assert run_cli("apikeys", "update", row.id, "--disable")[0] == 0
    assert client.get("/api/credits", headers=with_key(key)).get_json()["error"]["code"] == "KEY_DISABLED"
    assert run_cli("apikeys", "revoke", row.id)[0] == 0
    assert row_of(conn, key) is None
    with pytest.raises(SystemExit):
        run_cli("apikeys", "create", "owner@example.com", "--permissions", "billing:write")


def test_text_postgresql_cannot_hold_is_a_400_not_a_500(client, conn, owner):
    """U+0000 in a name, key id or query id: the plugin's server answers 500 (its insert or lookup fails);
    genvid answers 400 VALIDATION_ERROR naming the field, in zod's words."""
    headers = {**bearer(create_session(conn, user_id=owner.id)), **ORIGIN}
    created = client.post("/api/auth/api-key/create", headers=headers, json={"name": "bad\x00name"})
    assert created.status_code == 400
    assert created.get_json() == {"code": "VALIDATION_ERROR",
                                  "message": "[body.name] Invalid string: must not contain U+0000"}
    for path, body in (("/api/auth/api-key/update", {"keyId": "a\x00b", "name": "x"}),
                       ("/api/auth/api-key/delete", {"keyId": "a\x00b"})):
        answer = client.post(path, headers=headers, json=body)
        assert (answer.status_code, answer.get_json()["code"]) == (400, "VALIDATION_ERROR"), path
    got = client.get("/api/auth/api-key/get?id=a%00b", headers=headers)
    assert (got.status_code, got.get_json()["message"]) == (
        400, "[query.id] Invalid string: must not contain U+0000")


def test_the_document_names_the_key_header_and_each_operations_permission(client):
    """x-api-key is a security scheme; exactly the operations keys may call list it,
    each naming its permission."""
    from genvid.auth.apikey_permissions import ENDPOINTS
    document = client.get("/api/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey", "in": "header", "name": "x-api-key",
        "description": document["components"]["securitySchemes"]["apiKey"]["description"]}
    taking = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if {"apiKey": []} in operation.get("security", []):
                taking[operation["operationId"]] = operation
                assert "429" in operation["responses"] and "403" in operation["responses"], (method, path)
    assert sorted(taking) == sorted(endpoint.replace(".", "_") for endpoint in ENDPOINTS)
    assert "needs the permission `videos:create`" in taking["videos_create_video"]["description"]
    assert not any(path.startswith(("/api/auth/", "/api/billing/")) for path in
                   (p for p, ops in document["paths"].items() for op in ops.values()
                    if {"apiKey": []} in op.get("security", [])))
