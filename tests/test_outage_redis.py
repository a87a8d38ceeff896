"""Redis stopped or killed under a live gunicorn with RATE_LIMIT=on: never a 500. get-session and the API that
needs no Redis keep working; the rate-limited auth routes and event streams are refused with 503 and
Retry-After as JSON before anything starts; a stream already open ends cleanly; the access log records what
the client got. (The choice of failing open or closed is explained in genvid/auth/ratelimit.py.)"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from live_stack import Gunicorn, Redis, genvid_env, wait_for
from videos_fixtures import Studio

pytestmark = pytest.mark.slow
ORIGIN = {"Origin": "http://localhost:5173"}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis")
    yield server
    server.close()


@pytest.fixture
def web(own_redis: Redis, services, tmp_path: Path) -> Iterator[Gunicorn]:  # type: ignore[no-untyped-def]
    server = Gunicorn(
        genvid_env(database_url=services.database_url, redis_url=own_redis.url, data_dir=tmp_path,
                   RATE_LIMIT="on"), tmp_path / "gunicorn.log")
    yield server
    server.close()


def _sign_in(web: Gunicorn) -> requests.Response:
    return requests.post(f"{web.url}/api/auth/sign-in/email", headers=ORIGIN, timeout=30,
                         json={"email": "nobody@example.com", "password": "whatever1"})


@pytest.mark.parametrize("outage", ["stop", "kill"])
def test_redis_outage_never_answers_500(local_studio: Studio, own_redis: Redis, web: Gunicorn,
                                        outage: str) -> None:
    _, auth = local_studio.user()
    video_id = local_studio.create(auth).get_json()["data"]["id"]      # stays queued: no worker on this Redis
    events_url = f"{web.url}/api/videos/{video_id}/events"

    # A stream open when Redis goes away ends cleanly (a complete chunked body, no HTML error page).
    streamed: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        with requests.get(events_url, headers=auth, stream=True, timeout=120) as response:
            assert response.status_code == 200
            for line in response.iter_lines(decode_unicode=True):
                streamed.append(line)
                if line.startswith("event: status"):
                    opened.set()
    listener = threading.Thread(target=listen)
    listener.start()
    assert opened.wait(60), "the stream did not start"

    getattr(own_redis, outage)()
    listener.join(timeout=120)
    assert not listener.is_alive() and streamed[0] == "retry: 3000"

    session = requests.get(f"{web.url}/api/auth/get-session", headers=auth, timeout=30)
    assert session.status_code == 200 and session.json()["user"]
    assert requests.get(f"{web.url}/api/credits", headers=auth, timeout=30).status_code == 200
    refused = _sign_in(web)
    assert refused.status_code == 503 and refused.json()["code"] == "SERVICE_UNAVAILABLE"
    assert refused.headers["Retry-After"]
    stream = requests.get(events_url, headers=auth, timeout=30)
    assert stream.status_code == 503 and stream.headers["Content-Type"] == "application/json"
    assert stream.json()["error"]["code"] == "SERVICE_UNAVAILABLE" and stream.headers["Retry-After"]

    own_redis.start()
    wait_for(lambda: _sign_in(web).status_code in (401, 429), "sign-in to be counted again")
    logged = web.access_lines()
    assert 500 not in {line["status"] for line in logged}
    event_lines = [line["status"] for line in logged if line["path"].endswith("/events")]
    assert event_lines == [200, 503], "the access log records what each stream request got"
