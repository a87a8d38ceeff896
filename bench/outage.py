"""What clients see while PostgreSQL or Redis is stopped or killed under a live stack, and how soon service
returns.

    .venv/bin/python bench/outage.py [--requests 20]      (about a minute; PostgreSQL and Redis of its own)

The stack is the Procfile's: gunicorn (WEB_CONCURRENCY=2, 8 threads each) and a `genvid worker`, with
RATE_LIMIT=on, on a PostgreSQL and a Redis this script starts and then stops (a fast shutdown) or kills
(SIGKILL, as if the host died) and starts again. For each outage it prints the status codes of a mix of
requests (an /api/ read, get-session, sign-in, an event stream) with their slowest and median latency, and
the seconds from the server answering again (pg_ctl start / redis-server back) to the first 200 of
GET /api/credits. The tests assert the statuses (tests/test_outage_*.py); the times are reported here, since
a busy machine makes them longer without anything being wrong.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live_stack import Gunicorn, Postgres, Redis, Worker, genvid_env

ORIGIN = {"Origin": "http://localhost:5173"}
PASSWORD = "correct horse battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20, help="requests of each kind during each outage")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genvid-outage-") as tmp:
        run(Path(tmp), args.requests)


def run(tmp: Path, count: int) -> None:
    from genvid.infra.migrations import apply_migrations
    postgres = Postgres(tmp / "pg")
    apply_migrations(postgres.url)
    redis = Redis(tmp / "redis")
    env = genvid_env(database_url=postgres.url, redis_url=redis.url, data_dir=tmp, RATE_LIMIT="on")
    web = Gunicorn(env, tmp / "gunicorn.log")
    worker = Worker(env, tmp / "worker.log")
    try:
        signed_up = requests.post(f"{web.url}/api/auth/sign-up/email", headers=ORIGIN, timeout=30,
                                  json={"name": "Bench", "email": "bench@example.com", "password": PASSWORD})
        assert signed_up.status_code == 200, signed_up.text
        auth = {"Authorization": f"Bearer {signed_up.json()['token']}"}
        video_id = _a_video(env, web.url, auth)
        calls = _calls(web.url, auth, video_id)
        recovered = {"postgres": ("GET /api/credits", calls["credits"]),
                     "redis": ("sign-in", calls["sign-in"])}
        print(f"{'outage':<16}{'request':<14}{'statuses':<28}{'slowest':>9}{'median':>9}")
        for name, server in (("postgres", postgres), ("redis", redis)):
            for how in ("stop", "kill"):
                getattr(server, how)()
                _report(f"{name} {how}", calls, count)
                server.start()
                label, call = recovered[name]
                started = time.monotonic()
                while not _served(call):
                    if time.monotonic() - started > 120:
                        raise SystemExit("the API did not recover within 120 s")
                    time.sleep(0.02)
                print(
                    f"{name + ' ' + how:<16}first 2xx/4xx of {label}: {time.monotonic() - started:.2f} s "
                    f"after "
                    f"{name} answered again")
        print(f"worker process still running after all outages: {worker.alive()}")
        statuses = Counter(line["status"] for line in web.access_lines())
        print(f"access log, every request: {dict(sorted(statuses.items()))}")
    finally:
        worker.close()
        web.close()
        redis.close()
        postgres.close()


def _a_video(env: dict[str, str], base: str, auth: dict[str, str]) -> str:
    """A video of the bench user (credits granted and the offline catalogue synced by the CLI, as an operator
    would), so the event stream has something to stream."""
    import subprocess
    for command in (["credits", "grant", "bench@example.com", "5", "--reason", "bench"], ["catalog", "sync"]):
        subprocess.run([sys.executable, "-m", "genvid.cli", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    avatars = requests.get(f"{base}/api/avatars", headers=auth, timeout=30).json()["data"]
    voices = requests.get(f"{base}/api/voices", headers=auth, timeout=30).json()["data"]
    created = requests.post(f"{base}/api/videos", headers=auth, timeout=30, json={
        "avatar_id": avatars[0]["id"], "voice_id": voices[0]["id"], "script": "Outages are survivable."})
    assert created.status_code == 202, created.text
    return str(created.json()["data"]["id"])


_clients = iter(range(1, 1_000_000))


def _calls(base: str, auth: dict[str, str], video_id: str) -> dict[str, Callable[[], requests.Response]]:
    """One of each kind of request. Sign-ins come from ever new client addresses (X-Forwarded-For), so the
    rate limit (3 per 10 s per address) is not what answers them."""
    def sign_in() -> requests.Response:
        client = next(_clients)
        return requests.post(f"{base}/api/auth/sign-in/email", timeout=60,
                             headers={**ORIGIN,
                                      "X-Forwarded-For": f"10.{client >> 16 & 255}.{client >> 8 & 255}."
                                                         f"{client & 255}"},
                             json={"email": "bench@example.com", "password": PASSWORD})

    def events() -> requests.Response:
        with requests.get(f"{base}/api/videos/{video_id}/events", headers=auth, timeout=60,
                          stream=True) as answer:
            return answer          # the status is known once headers arrive; the stream is closed here

    return {
        "credits": lambda: requests.get(f"{base}/api/credits", headers=auth, timeout=60),
        "get-session": lambda: requests.get(f"{base}/api/auth/get-session", headers=auth, timeout=60),
        "sign-in": sign_in,
        "events": events,
    }


def _report(outage: str, calls: dict[str, Callable[[], requests.Response]], count: int) -> None:
    for name, call in calls.items():
        statuses: Counter[int] = Counter()
        seconds = []
        for _ in range(count):
            started = time.perf_counter()
            statuses[call().status_code] += 1
            seconds.append(time.perf_counter() - started)
        shown = ", ".join(f"{status} x{n}" for status, n in sorted(statuses.items()))
        print(f"{outage:<16}{name:<14}{shown:<28}{max(seconds) * 1000:>7.0f}ms"
              f"{statistics.median(seconds) * 1000:>7.0f}ms")


def _served(call: Callable[[], requests.Response]) -> bool:
    try:
        return call().status_code < 500
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
