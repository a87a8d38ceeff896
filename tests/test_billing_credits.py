"""GET /api/credits and the paginated ledger; the operator's `genvid credits grant` command."""
from __future__ import annotations

import base64
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
from genvid.cursors import decode_id_cursor

ROOT = Path(__file__).resolve().parent.parent


def test_credits_need_a_signed_in_user(client: FlaskClient) -> None:
    assert client.get("/api/credits").status_code == 401
    assert client.get("/api/credits/ledger").status_code == 401


def test_ledger_pages_newest_first_with_an_opaque_cursor(client: FlaskClient, buyer: Buyer,
                                                         fund: Callable[..., None],
                                                         conn: psycopg.Connection) -> None:
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
    second = client.get("/api/credits/ledger",
                        query_string={"limit": "10", "cursor": first["meta"]["next_cursor"]},
                        headers=buyer.headers).get_json()
    assert [e["delta"] for e in second["data"]] == list(range(15, 5, -1))
    assert client.get("/api/credits", headers=buyer.headers).get_json()["data"]["balance"] == 325 + 1000
    assert ledger.balance(conn, user_id=buyer.user.id) == 1325


def test_bad_ledger_queries_are_422(client: FlaskClient, buyer: Buyer) -> None:
    for query in ({"cursor": "not-a-cursor"}, {"cursor": "bDE6LTE"}, {"limit": "0"}, {"limit": "101"}):
        response = client.get("/api/credits/ledger", query_string=query, headers=buyer.headers)
        assert response.status_code == 422, query


# Cursors the ledger handed out before it shared genvid.cursors' codec: the base64 of "l1:<entry id>".
OLD_CURSOR_42 = "bDE6NDI"                                    # l1:42
OLD_CURSOR_NEWEST = "bDE6OTIyMzM3MjAzNjg1NDc3NTgwNw"          # l1:9223372036854775807, before any entry


def _old_ledger_cursor(entry_id: str) -> str:
    """What the ledger's first codec made for an entry id."""
    return base64.urlsafe_b64encode(f"l1:{entry_id}".encode()).decode().rstrip("=")


def test_old_ledger_cursors_still_decode() -> None:
    """The one codec reads the ledger's old cursors as the entry id they carry; out-of-range ids stay 422s."""
    assert decode_id_cursor(OLD_CURSOR_42, maximum=2**63 - 1) == 42
    assert decode_id_cursor(OLD_CURSOR_NEWEST, maximum=2**63 - 1) == 2**63 - 1
    assert _old_ledger_cursor("42") == OLD_CURSOR_42


def test_a_client_paging_with_an_old_ledger_cursor_carries_on(client: FlaskClient, buyer: Buyer,
                                                             fund: Callable[..., None]) -> None:
    """A page asked for with an old cursor is the page after the entry it names; new cursors are the shared
    codec's (so the same 422 for a forged one as every other list)."""
    for credits in range(1, 6):
        fund(buyer.user.id, credits)
    listed = client.get("/api/credits/ledger", headers=buyer.headers).get_json()["data"]
    assert [entry["delta"] for entry in listed] == [5, 4, 3, 2, 1]

    def page(cursor: str) -> list[int]:
        response = client.get("/api/credits/ledger", query_string={"cursor": cursor}, headers=buyer.headers)
        assert response.status_code == 200, response.get_json()
        return [entry["delta"] for entry in response.get_json()["data"]]

    assert page(OLD_CURSOR_NEWEST) == [5, 4, 3, 2, 1]
    assert page(_old_ledger_cursor(listed[1]["id"])) == [3, 2, 1]
    new = client.get("/api/credits/ledger", query_string={"limit": "2"}, headers=buyer.headers).get_json()
    assert page(new["meta"]["next_cursor"]) == [3, 2, 1]
    # l1:0
    forged = client.get("/api/credits/ledger", query_string={"cursor": "bDE6MA"}, headers=buyer.headers)
    assert forged.status_code == 422 and forged.get_json()["error"]["details"][0]["field"] == "cursor"


def _genvid(services: Services, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
           "GENVID_DATA_DIR": str(tmp_path / "cli-data"), "ENVIRONMENT": "development",
           "LOG_LEVEL": "WARNING"}
    env.pop("STRIPE_SECRET_KEY", None)
    return subprocess.run([sys.executable, "-m", "genvid.cli", *args], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


def test_credits_grant_cli_adds_a_ledger_entry_each_time(services: Services, tmp_path: Path, buyer: Buyer,
                                                         client: FlaskClient,
                                                         conn: psycopg.Connection) -> None:
    """`genvid credits grant EMAIL N --reason ...` works without Stripe; each run is its own ledger entry."""
    for _ in range(2):
        done = _genvid(services, tmp_path, "credits", "grant", "Buyer@Example.com", "40", "--reason",
                       "launch promo")
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
