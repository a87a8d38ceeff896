"""genvid's API keys beside the real better-auth 1.7.25 server running the api-key plugin (npm
@better-auth/api-key 1.7.5, pinned), both on one database and configured alike (genvid's options, passed to
the plugin by the better_auth fixture): the plugin's client sees the same answers, a key made on either server
verifies on the other, and quota, refill and rate limit count the same uses on the same row.

The reference's verifyApiKey is server-only (no HTTP route); tests/interop/server_calls.mjs reaches it as
POST /__server/verifyApiKey, and genvid's is genvid.auth.apikey_usage.verify_api_key.
"""
from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import psycopg
import pytest
import requests
from auth_fixtures import INTEROP_DIR, NODE_TIMEOUT, TRUSTED_ORIGIN, node_env
from flask import Flask

from genvid import clock
from genvid.auth.apikey_usage import verify_api_key
from genvid.auth.apikeys import hash_key, options_from
from genvid.infra import database

pytestmark = pytest.mark.slow

ORIGIN = {"Origin": TRUSTED_ORIGIN}
CREDITS_READ = {"credits": ["read"]}
HOUR_MS = 3_600_000


def run_apikey_client(node: str, base_url: str, *, tag: str, prefix: str) -> dict[str, Any]:
    """Run tests/interop/apikey_client.mjs against base_url and return what it printed."""
    done = subprocess.run([node, "apikey_client.mjs", base_url], cwd=INTEROP_DIR, capture_output=True,
                          text=True, check=False, timeout=NODE_TIMEOUT,
                          env=node_env(TRUSTED_ORIGIN=TRUSTED_ORIGIN, TAG=tag, KEY_PREFIX=prefix))
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in run["steps"]}


def test_the_plugin_client_sees_no_difference(node, better_auth, serve_genvid, app):
    """apikey_client.mjs (the plugin's client + raw HTTP) drives create, get, list, update and delete and
    their error cases on both servers: statuses, bodies (key shape, start, prefix, dates, metadata as the
    plugin revives it) and client errors match step for step."""
    prefix = options_from(app.config["GENVID"]).default_prefix or ""
    reference = better_auth()
    expected = by_name(run_apikey_client(node, reference.url, tag=f"ba{uuid.uuid4().hex[:8]}", prefix=prefix))
    genvid_url, _ = serve_genvid()
    actual = by_name(run_apikey_client(node, genvid_url, tag=f"gv{uuid.uuid4().hex[:8]}", prefix=prefix))

    assert list(actual) == list(expected)
    assert len(actual) > 80
    differing = [name for name in expected if actual[name] != expected[name]]
    first = differing[0] if differing else None
    assert differing == [], (f"{len(differing)} steps differ: {differing}\nfirst, {first!r}:\n"
                             f"better-auth {json.dumps(expected.get(first or ''), indent=1)}\n"
                             f"genvid      {json.dumps(actual.get(first or ''), indent=1)}")
    # A sample of what "match" means, so a broken normaliser cannot make everything equal.
    created = actual["create"]["body"]
    assert created["key"] == f"<{prefix}+64 letters>" and created["prefix"] == prefix
    assert created["metadata"]["at"] == "2026-01-02T03:04:05Z"            # create echoes what it was sent ...
    assert created["permissions"] == {"videos": ["read", "create", "delete"],
                                      "batches": ["read", "create", "cancel"],
                                      "credits": ["read"], "webhooks": ["read", "write"]}
    stored = actual["get"]["body"]["metadata"]   # ... the rest revive dates, as the plugin
    assert (stored["at"], stored["local"], stored["n"]) == ("2026-01-02T03:04:05.000Z",
                                                            "2026-01-02T01:04:05.000Z", 1)
    assert "key" not in actual["get"]["body"]
    assert actual["create with prefix and expiry"]["body"]["expiresAt"] == f"<createdAt+{30 * 1440}min>"
    assert actual["create permissions"]["body"]["code"] == "SERVER_ONLY_PROPERTY"
    assert actual["verify over HTTP"]["status"] == 404
    assert actual["get-session with x-api-key"]["body"] is None
    assert actual["list with x-api-key"]["status"] == 401
    assert actual["update-user with x-api-key"]["status"] == 401
    assert actual["list"]["body"]["total"] == 6


# ---------- one database, two servers ----------

def sign_up(base: str) -> requests.Session:
    browser = requests.Session()
    response = browser.post(f"{base}/api/auth/sign-up/email", headers=ORIGIN, timeout=10,
                            json={"email": f"keys-{uuid.uuid4().hex[:8]}@example.com",
                                  "password": "correct horse", "name": "Key Owner"})
    assert response.status_code == 200, response.text
    browser.headers.update(ORIGIN)
    return browser


def server_call(base: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
    """The reference's server-side API (auth.api[method]) through tests/interop/server_calls.mjs."""
    answer = requests.post(f"{base}/__server/{method}", json=body, timeout=10).json()
    assert answer["status"] == 200, answer
    result: dict[str, Any] = answer["body"]
    return result


def genvid_verify(app: Flask, key: str, permissions: dict[str, list[str]] | None = None) -> dict[str, Any]:
    with app.app_context(), database.connection() as conn:
        return verify_api_key(conn, key=key, permissions=permissions,
                              options=options_from(app.config["GENVID"]), now=clock.system_now())


def test_a_key_made_on_either_server_verifies_on_the_other(better_auth, serve_genvid, app, conn):
    """A user's key made over HTTP on genvid verifies on better-auth and one made on better-auth authenticates
    genvid's /api/ calls; both are stored the same way (hash, start, prefix, default permissions)."""
    reference = better_auth()
    genvid_url, genvid_app = serve_genvid()
    browser = sign_up(genvid_url)   # the session cookie is valid on both servers (one secret, one table)
    made = {
        server: browser.post(f"{server}/api/auth/api-key/create", json={"name": "cross"}, timeout=10).json()
        for server in (genvid_url, reference.url)}
    for created in made.values():
        key = created["key"]
        assert key.startswith("gv_") and len(key) == 67 and created["start"] == key[:6]
        row = conn.execute('SELECT "key", "start", "prefix", "permissions" FROM apikey WHERE id = %s',
                           (created["id"],)).fetchone()
        assert row is not None
        assert row[0] == hash_key(key) != key and row[1] == key[:6] and row[2] == "gv_"
        assert json.loads(row[3]) == {"videos": ["read", "create", "delete"],
                                      "batches": ["read", "create", "cancel"], "credits": ["read"],
                                      "webhooks": ["read", "write"]}
        on_better_auth = server_call(reference.url, "verifyApiKey", {"key": key, "permissions": CREDITS_READ})
        assert on_better_auth["valid"] is True and on_better_auth["key"]["id"] == created["id"]
        on_genvid = requests.get(f"{genvid_url}/api/credits", headers={"x-api-key": key}, timeout=10)
        assert on_genvid.status_code == 200, on_genvid.text
        assert on_genvid.json()["data"] == {"balance": 0, "pending": 0}
        verified = genvid_verify(genvid_app, key, CREDITS_READ)
        assert verified["valid"] is True and verified["key"]["lastRequest"] is not None
    # Listed alike by both, by start and never by key.
    lists = [browser.get(f"{server}/api/auth/api-key/list", params={"sortBy": "createdAt"}, timeout=10).json()
             for server in (genvid_url, reference.url)]
    assert lists[0] == lists[1]
    assert [k["start"] for k in lists[0]["apiKeys"]] == [made[genvid_url]["start"],
                                                         made[reference.url]["start"]]
    assert all("key" not in k for k in lists[0]["apiKeys"])
    # An empty sortBy is no sorting to the plugin (`sortBy ? {...} : undefined`) and to genvid, and genvid's
    # document allows it (schemathesis caught the 200 against an enum without "").
    unsorted = [browser.get(f"{server}/api/auth/api-key/list", params={"sortBy": ""}, timeout=10)
                for server in (genvid_url, reference.url)]
    assert [answer.status_code for answer in unsorted] == [200, 200]
    listed_ids = [{k["id"] for k in answer.json()["apiKeys"]} for answer in unsorted]
    assert listed_ids[0] == listed_ids[1] == {created["id"] for created in made.values()}
    document = requests.get(f"{genvid_url}/api/openapi.json", timeout=10).json()
    (sort_by,) = [parameter for parameter in document["paths"]["/api/auth/api-key/list"]["get"]["parameters"]
                  if parameter["name"] == "sortBy"]
    assert "" in sort_by["schema"]["enum"]


def _outcome(result: dict[str, Any]) -> tuple[Any, ...]:
    """What a verification decided, without ids and times (tryAgainIn to the minute)."""
    if result["valid"]:
        key = result["key"]
        return True, key["remaining"], key["requestCount"], key["lastRefillAt"] is not None
    error = result["error"]
    again = error.get("details", {}).get("tryAgainIn")
    return False, error["code"], None if again is None else round(again / 60000)


def _server_key(reference_url: str, user_id: str, **fields: Any) -> str:
    made = server_call(reference_url, "createApiKey",
                       {"userId": user_id, "permissions": CREDITS_READ, **fields})
    key: str = made["key"]
    return key


def _run(steps: list[str], verify: Any, key: str, conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Run the steps ("verify" or an SQL time shift) for one key; the outcomes of the verifications."""
    outcomes = []
    for action in steps:
        if action == "verify":
            outcomes.append(_outcome(verify(key)))
        else:
            conn.execute(f'UPDATE apikey SET {action} WHERE "key" = %s', (hash_key(key),))
    return outcomes


@pytest.mark.parametrize("scenario", ["quota and rate limit", "refill and a new window"])
def test_quota_refill_and_rate_limit_behave_the_same(scenario, better_auth, serve_genvid, app, conn):
    """The same uses of a key give the same answers whether better-auth alone verifies it or both servers do
    in turn on the shared row: remaining counts down and the exhausted key is deleted, refills come after
    refillInterval, the rate limit refuses (tryAgainIn) and a pause of a window starts a new count. Time is
    moved by shifting the row's timestamps back, not by waiting."""
    reference = better_auth()
    _, genvid_app = serve_genvid()
    user_id = sign_up(reference.url).get(f"{reference.url}/api/auth/get-session",
                                         timeout=10).json()["user"]["id"]
    if scenario == "quota and rate limit":
        fields = {"remaining": 3, "rateLimitMax": 2, "rateLimitTimeWindow": HOUR_MS}
        steps = ["verify"] * 5
    else:
        fields = {"remaining": 1, "refillAmount": 3, "refillInterval": HOUR_MS, "rateLimitMax": 1,
                  "rateLimitTimeWindow": HOUR_MS}
        steps = ["verify", "verify", '"createdAt" = "createdAt" - interval \'2 hours\'', "verify",
                 '"lastRequest" = "lastRequest" - interval \'2 hours\'', "verify", "verify"]

    def on_better_auth(key: str) -> dict[str, Any]:
        return server_call(reference.url, "verifyApiKey", {"key": key, "permissions": CREDITS_READ})

    turns = iter(range(100))

    def in_turn(key: str) -> dict[str, Any]:
        return on_better_auth(key) if next(turns) % 2 else genvid_verify(genvid_app, key, CREDITS_READ)

    alone = _run(steps, on_better_auth, _server_key(reference.url, user_id, **fields), conn)
    shared = _run(steps, in_turn, _server_key(reference.url, user_id, **fields), conn)
    assert shared == alone
    if scenario == "quota and rate limit":
        assert alone == [(True, 2, 1, False), (True, 1, 2, False), (False, "RATE_LIMITED", 60),
                         (False, "USAGE_EXCEEDED", None), (False, "INVALID_API_KEY", None)]
    else:
        assert alone == [(True, 0, 1, False), (False, "USAGE_EXCEEDED", None), (False, "RATE_LIMITED", 60),
                         (True, 1, 1, True), (False, "RATE_LIMITED", 60)]
