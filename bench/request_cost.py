"""Where the CPU of a POST /api/videos goes, next to a GET /api/auth/get-session: why bench/videos.py [1]
shows the ratio it shows.

    .venv/bin/python bench/request_cost.py [--rounds 6] [--seconds 4] [--requests 2000]

 1. Served: the stack of bench/videos.py [1] (gunicorn as the Procfile runs it, VIDEO_PROVIDER=local, 16
    users on 16 keep-alive connections). Each round loads one endpoint and reads the CPU time (user + system)
    that each process used meanwhile: gunicorn's workers, PostgreSQL (the postmaster and its children), and
    the load generator (this process). Printed in microseconds per request, every round with the busiest
    worker's share of the workers' CPU; the summary is the median of the balanced rounds (bench/videos.py).
 2. In-process: the same WSGI app called directly in this process (no gunicorn, no sockets, the access log
    written to /dev/null): CPU per request of each endpoint, and of /health, a Flask route that touches
    nothing.

When every core is busy, throughput is inversely proportional to CPU per request, so get-session's total over
a create's total is about the best ratio bench/videos.py [1] can show.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._util import (
    BALANCED_SHARE,
    LoadResult,
    busiest_share,
    cpu_during,
    load_many,
    median,
    process_tree,
    settle,
)
from bench._videos_util import Services, Stack

GROUPS = ("gunicorn", "postgres", "load generator")


def postgres_pids(pgdata: Path) -> list[int]:
    """The postmaster of the cluster in pgdata and its children (backends, WAL writer, checkpointer, ...)."""
    return process_tree(int((pgdata / "postmaster.pid").read_text().split()[0]))


Cost = dict[str, float]     # CPU microseconds per request, by group of processes


def measured_round(stack: Stack, pgdata: Path,
                   run: Callable[[], LoadResult]) -> tuple[LoadResult, Cost, float]:
    """run()'s result, its CPU per request by group, and the busiest gunicorn worker's share of the workers'
    CPU (bench._util.busiest_share)."""
    result, spent = cpu_during({"gunicorn": stack.web_workers(), "postgres": postgres_pids(pgdata),
                                "load generator": [os.getpid()]}, run)
    cost = {name: sum(max(0.0, s) for s in used) / max(1, result.requests) * 1e6
            for name, used in spent.items()}
    return result, cost, busiest_share(spent["gunicorn"])


# url, one (method, headers, body) per keep-alive connection, expected status
Endpoint = tuple[str, list[tuple[str, dict[str, str], bytes]], int]


def served(stack: Stack, pgdata: Path, args: argparse.Namespace, endpoints: dict[str, Endpoint]) -> None:
    """[1]: every endpoint in turn, each round on an idle machine; a line per round, then the medians."""
    print(f"\n[1] served by gunicorn: CPU microseconds per request, {args.rounds} rounds of "
          f"{args.seconds:.0f} s per endpoint")
    balanced: dict[str, list[Cost]] = {name: [] for name in endpoints}
    for number in range(1, args.rounds + 1):
        for name, (url, requests_, status) in endpoints.items():
            settle()
            result, cost, share = measured_round(stack, pgdata, functools.partial(
                load_many, url, requests_, seconds=args.seconds, expect=status))
            if share <= BALANCED_SHARE:
                balanced[name].append(cost)
            print(f"  round {number} {name:12s} {result.rate:7.1f} req/s (busiest worker {share:4.0%})  "
                  f"{_costs(cost)}")
    print("  median of the balanced rounds:")
    totals = {}
    for name, rounds in balanced.items():
        if not rounds:
            print(f"  {name:12s} no balanced round (rerun)")
            continue
        cost = {group: median([r[group] for r in rounds]) for group in GROUPS}
        totals[name] = sum(cost.values())
        print(f"  {name:12s} {_costs(cost)}  ({len(rounds)} rounds)")
    if len(totals) == 2:
        get, post = totals.values()
        print(f"  get-session CPU / create CPU: {get / post:.2f}x (bench/videos.py [1] holds its req/s ratio "
              "to >= 0.50x)")


def _costs(cost: Cost) -> str:
    return "  ".join(f"{group} {cost[group]:5.0f}" for group in GROUPS) + f"  total {sum(cost.values()):5.0f}"


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """fd 2 pointed at /dev/null (the access log is written, and paid for, but not shown)."""
    saved = os.dup(2)
    with open(os.devnull, "w", encoding="utf-8") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


Case = tuple[str, str, dict[str, str], bytes, int]       # method, path, headers, body, status


def in_process(stack: Stack, args: argparse.Namespace, cases: dict[str, Case]) -> None:
    """[2]: the app of wsgi.py, configured as the stack's processes were, called without a server."""
    from werkzeug.test import EnvironBuilder

    os.environ.update(stack.env)
    with stderr_silenced():
        import wsgi
    print(f"\n[2] in-process: the WSGI app called directly, CPU microseconds per request "
          f"({args.requests} each)")
    for name, (method, path, headers, body, status) in cases.items():
        environ = EnvironBuilder(path=path, method=method, headers=list(headers.items()),
                                 data=body).get_environ()
        with stderr_silenced():
            _serve(wsgi.app, environ, body, 200)            # warm-up: pool, prepared statements, caches
            spent, answered = _serve(wsgi.app, environ, body, args.requests)
        if not answered.startswith(str(status)):
            raise RuntimeError(f"{name} answered {answered}")
        print(f"  {name:28s} {spent / args.requests * 1e6:6.0f}")


def _serve(app: Any, environ: dict[str, Any], body: bytes, count: int) -> tuple[float, str]:
    """Process CPU seconds for count calls of app with (a copy of) environ, and the last status line."""
    answered = ""

    def start_response(status_line: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], object]:
        nonlocal answered
        answered = status_line
        return lambda chunk: None

    started = time.process_time()
    for _ in range(count):
        answer = app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
    return time.process_time() - started, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="rounds per endpoint in [1]")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per round in [1]")
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint in [2]")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}; embedded PostgreSQL + Redis; load generator and servers share this "
          "machine")
    with tempfile.TemporaryDirectory(prefix="genvid-bench-cost-") as tmp:
        services = Services(Path(tmp))
        stack = Stack(services, "bench_cost", VIDEO_PROVIDER="local")
        try:
            stack.cli("catalog", "sync")
            stack.web()
            users = stack.users(16, credits=10_000_000)
            avatar_id, voice_id = stack.first_ids(users[0])
            body = json.dumps({"avatar_id": avatar_id, "voice_id": voice_id,
                               "script": "Hello from the genvid benchmark. " * 4}).encode()
            endpoints = {
                "get-session": (f"{stack.url}/api/auth/get-session",
                                [("GET", {"Cookie": u["cookie"]}, b"") for u in users], 200),
                "POST videos": (f"{stack.url}/api/videos",
                                [("POST", stack.headers(u), body) for u in users], 202),
            }
            load_many(endpoints["get-session"][0], endpoints["get-session"][1], seconds=2, warmup=0)
            served(stack, services.pgdata, args, endpoints)
            stack.stop()
            host = {"Host": f"127.0.0.1:{stack.port}"}
            user = stack.headers(users[0])
            in_process(stack, args, {
                "GET /api/auth/get-session": ("GET", "/api/auth/get-session",
                                              {**host, "Cookie": user["Cookie"]}, b"", 200),
                "POST /api/videos": ("POST", "/api/videos", {**host, **user}, body, 202),
                "GET /health (Flask, no I/O)": ("GET", "/health", host, b"", 200),
            })
        finally:
            stack.stop()
            services.close()


if __name__ == "__main__":
    main()
