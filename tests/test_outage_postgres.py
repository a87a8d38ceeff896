"""PostgreSQL stopped or killed under a live gunicorn: every request is refused at once with 503
SERVICE_UNAVAILABLE and Retry-After (better-auth's shape on /api/auth), never a 500 or a hang, and every
kind of request is served again once PostgreSQL is back.

Real processes: a PostgreSQL of this test's own (tests/live_stack.py), gunicorn as the Procfile runs it. How
fast the 503s come and how soon service returns are measured by bench/outage.py, not asserted here (a busy
machine must not fail this test); the deterministic part of "at once" is tested in tests/test_database.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from live_stack import Gunicorn, Postgres, genvid_env, wait_for

from genvid.infra.migrations import apply_migrations

pytestmark = pytest.mark.slow
ORIGIN = {"Origin": "http://localhost:5173"}
PASSWORD = "correct horse battery"


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Postgres]:
    server = Postgres(tmp_path / "pg")
    apply_migrations(server.url)
    yield server
    server.close()


@pytest.fixture
def web(postgres: Postgres, services, tmp_path: Path) -> Iterator[Gunicorn]:  # type: ignore[no-untyped-def]
    server = Gunicorn(genvid_env(database_url=postgres.url, redis_url=services.redis_url, data_dir=tmp_path),
                      tmp_path / "gunicorn.log")
    yield server
    server.close()


def _sign_up(web: Gunicorn) -> dict[str, str]:
    response = requests.post(f"{web.url}/api/auth/sign-up/email", headers=ORIGIN, timeout=30,
                             json={"name": "Outage", "email": "outage@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _calls(web: Gunicorn, auth: dict[str, str]) -> dict[str, requests.Response]:
    """One of each kind of request: an /api/ read, get-session, sign-in, a write."""
    base = web.url
    return {
        "credits": requests.get(f"{base}/api/credits", headers=auth, timeout=30),
        "get-session": requests.get(f"{base}/api/auth/get-session", headers=auth, timeout=30),
        "sign-in": requests.post(f"{base}/api/auth/sign-in/email", headers=ORIGIN, timeout=30,
                                 json={"email": "outage@example.com", "password": PASSWORD}),
        "videos": requests.get(f"{base}/api/videos", headers=auth, timeout=30),
    }


def _assert_refused(web: Gunicorn, auth: dict[str, str]) -> None:
    for name, response in _calls(web, auth).items():
        assert response.status_code == 503, (name, response.status_code, response.text)
        assert int(response.headers["Retry-After"]) >= 1, name
        body = response.json()
        if name in ("get-session", "sign-in"):
            assert body == {"message": "The database is unavailable; try again shortly.",
                            "code": "SERVICE_UNAVAILABLE"}, name
        else:
            assert body["success"] is False and body["error"]["code"] == "SERVICE_UNAVAILABLE", name


@pytest.mark.parametrize("outage", ["stop", "kill"])
def test_postgres_outage_is_a_503_with_retry_after_and_service_returns(postgres: Postgres, web: Gunicorn,
                                                                        outage: str) -> None:
    auth = _sign_up(web)
    assert all(response.status_code == 200 for response in _calls(web, auth).values())

    getattr(postgres, outage)()
    for _ in range(3):          # the first finds its connection dead, later ones take the fast path
        _assert_refused(web, auth)
    ready = requests.get(f"{web.url}/ready", timeout=30)
    assert ready.status_code == 503 and ready.json()["down"] == ["postgres"]

    postgres.start()
    # Each gunicorn worker finds PostgreSQL back with its own next probe, at most one probe interval after a
    # request reaches it; until then it still refuses (503, never 500). A request served by one worker says
    # nothing of the other, so wait until a whole round of calls is served.
    wait_for(lambda: all(response.status_code == 200 for response in _calls(web, auth).values()),
             "every kind of request to be served again after PostgreSQL came back")
    statuses = {line["status"] for line in web.access_lines()}
    assert 500 not in statuses, "no request may have answered 500"
