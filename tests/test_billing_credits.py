"""GET /api/credits and the paginated ledger; the operator's `genvid credits grant` command."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
from billing_fixtures import Buyer
from conftest import Services
from flask.testing import FlaskClient

from genvid.billing import ledger

ROOT = Path(__file__).resolve().parent.parent


def test_credits_need_a_signed_in_user(client: FlaskClient) -> None:
    assert client.get("/api/credits").status_code == 401
    assert client.get("/api/credits/ledger").status_code == 401


def test_ledger_pages_newest_first_with_an_opaque_cursor(client: FlaskClient, buyer: Buyer,
                                                         fund: Callable[..., None], conn: psycopg.Connection) -> None:
    """25 entries in pages of 10: 10, 10, 5, newest first, no overlap, no next_cursor on the last page."""
    for credits in range(1, 26):
        fund(buyer.user.id, credits)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "10", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/credits/ledger", query_string=query, headers=buyer.headers).get_json()
        seen.extend(entry["delta"] for entry in body["data"])
        pages += 1
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
        assert cursor.isascii() and not cursor.isdigit()
    assert pages == 3
    assert seen == list(range(25, 0, -1))
    # an entry added between pages does not shift the next page (keyset, not offset)
    first = client.get("/api/credits/ledger", query_string={"limit": "10"}, headers=buyer.headers).get_json()
    fund(buyer.user.id, 1000)
    second = client.get("/api/credits/ledger", query_string={"limit": "10", "cursor": first["meta"]["next_cursor"]},
                        headers=buyer.headers).get_json()
    assert [e["delta"] for e in second["data"]] == list(range(15, 5, -1))
    assert client.get("/api/credits", headers=buyer.headers).get_json()["data"]["balance"] == 325 + 1000
    assert ledger.balance(conn, user_id=buyer.user.id) == 1325


def test_bad_ledger_queries_are_422(client: FlaskClient, buyer: Buyer) -> None:
    for query in ({"cursor": "not-a-cursor"}, {"cursor": "bDE6LTE"}, {"limit": "0"}, {"limit": "101"}):
        response = client.get("/api/credits/ledger", query_string=query, headers=buyer.headers)
        assert response.status_code == 422, query


def _genvid(services: Services, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "cli-data"), "ENVIRONMENT": "development", "LOG_LEVEL": "WARNING"}
    env.pop("STRIPE_SECRET_KEY", None)
    return subprocess.run([sys.executable, "-m", "genvid.cli", *args], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


def test_credits_grant_cli_adds_a_ledger_entry_each_time(services: Services, tmp_path: Path, buyer: Buyer,
                                                         client: FlaskClient, conn: psycopg.Connection) -> None:
    """`genvid credits grant EMAIL N --reason ...` works without Stripe; each run is its own ledger entry."""
    for _ in range(2):
        done = _genvid(services, tmp_path, "credits", "grant", "Buyer@Example.com", "40", "--reason", "launch promo")
        assert done.returncode == 0, done.stderr
        assert "granted 40 credits to buyer@example.com" in done.stdout
    assert ledger.balance(conn, user_id=buyer.user.id) == 80
    entries = client.get("/api/credits/ledger", headers=buyer.headers).get_json()["data"]
    assert [(e["delta"], e["reason"]) for e in entries] == [(40, "operator: launch promo")] * 2
    assert len({e["reference"] for e in entries}) == 2
    unknown = _genvid(services, tmp_path, "credits", "grant", "nobody@example.com", "5", "--reason", "x")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    negative = _genvid(services, tmp_path, "credits", "grant", "buyer@example.com", "-5", "--reason", "x")
    assert negative.returncode == 2
    assert ledger.balance(conn, user_id=buyer.user.id) == 80
