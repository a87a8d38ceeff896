"""Outbound webhook deliveries per second per worker, beside raw RQ no-op jobs in the same run.

    .venv/bin/python bench/webhooks.py [--deliveries 1000] [--noop-jobs 1000] [--rounds 2]

One embedded PostgreSQL + Redis. Each round: a fresh database and Redis db, one user with one endpoint on a
local receiver (a threaded HTTP server in this process answering 200 at once), `--deliveries` events emitted
through genvid.outbound.emit (100 per transaction: rows in PostgreSQL, due at once), then one
`genvid worker --burst` (the Procfile's worker, in burst mode) delivers them all: its loop's tick dispatches
the due deliveries (claim and enqueue, 500 per transaction), then each job claims its delivery, signs it,
POSTs it over a new connection, logs the attempt and finishes the delivery. Deliveries/s are counted from the
attempts' own start times in PostgreSQL (first to last), so process start-up is left out. Beside it, raw RQ:
one `rq worker --burst` doing os.getpid() jobs on the same Redis, counted as bench/videos.py counts them, with
rq's default worker (a fork per job) and with rq.worker.SimpleWorker (in-process, as genvid's worker runs
jobs). Printed per round: the rates and the ratios.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._videos_util import BIN, ROOT, Services, Stack


class _Receiver:
    """Answers every POST with 200 "ok" and counts them."""

    def __init__(self) -> None:
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"


def delivery_rate(services: Services, name: str, deliveries: int) -> float:
    """Deliveries/s of one `genvid worker --burst` to a local receiver."""
    from factories import create_user  # type: ignore[import-not-found]  # tests/ is on sys.path (_videos_util)

    from genvid import clock
    from genvid.config import load as load_config
    from genvid.infra import database, services
    from genvid.outbound import CREDITS_PURCHASED, emit, endpoints

    stack = Stack(services, name, ENVIRONMENT="development")     # development: the receiver is on 127.0.0.1
    config = services.start(load_config(stack.env))
    receiver = _Receiver()
    with database.transaction() as conn:
        user = create_user(conn)
        endpoints.create_endpoint(conn, user_id=user.id, url=receiver.url, event_types=[CREDITS_PURCHASED],
                                  description="bench", enabled=True, encryption_key=config.encryption_key,
                                  production=False, now=clock.now())
    for start in range(0, deliveries, 100):
        with database.transaction() as conn:
            for number in range(start, min(deliveries, start + 100)):
                emit(conn, user_id=user.id, type=CREDITS_PURCHASED, reference=f"bench-{number}",
                     data={"number": number, "credits": {"balance": number, "pending": 0}})
    worker = subprocess.Popen([str(BIN / "genvid"), "worker", "--burst"], env=stack.env, cwd=str(ROOT),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker.wait(timeout=600)
    with database.connection() as conn:
        row = conn.execute("SELECT count(*), min(started_at), max(started_at) FROM webhook_attempts "
                           "WHERE status_code = 200").fetchone()
    database.close()
    assert row is not None
    done, first, last = row
    if done != deliveries or receiver.count != deliveries:
        raise RuntimeError(f"{done} deliveries succeeded and {receiver.count} arrived of {deliveries}")
    receiver.server.shutdown()
    return (done - 1) / (last - first).total_seconds()


def noop_rate(services: Services, name: str, jobs: int, *, worker_class: str | None) -> float:
    """Raw RQ: jobs/s of one `rq worker --burst` doing os.getpid() on the same Redis, from the first job
    taken to the last finished (rq's default worker forks per job; rq.worker.SimpleWorker, like genvid's,
    does not)."""
    from rq import Queue
    from rq.registry import FinishedJobRegistry

    from genvid.infra.redis_client import connect
    _, redis_url = services.fresh(name)
    client = connect(redis_url)
    noop = Queue("bench-noop", connection=client)
    for _ in range(jobs):
        noop.enqueue("os.getpid")
    command = [str(BIN / "rq"), "worker", "--burst", "--url", redis_url, "-q", "bench-noop"]
    if worker_class:
        command += ["--worker-class", worker_class]
    process = subprocess.Popen(command, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    finished = FinishedJobRegistry("bench-noop", connection=client)
    first_at, first_left = None, jobs
    while finished.count < jobs:
        left = noop.count
        if first_at is None and left < jobs:
            first_at, first_left = time.monotonic(), left
        if process.poll() is not None and finished.count < jobs:
            raise RuntimeError(f"rq worker exited with {finished.count}/{jobs} no-op jobs done")
        time.sleep(0.005)
    elapsed = time.monotonic() - (first_at or time.monotonic())
    process.wait(timeout=30)
    client.close()
    return first_left / elapsed if elapsed > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--noop-jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import tempfile
    print(f"cores {os.cpu_count()}; embedded PostgreSQL + Redis; receiver and workers share this machine",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="genvid-bench-webhooks-") as tmp:
        services = Services(Path(tmp))
        try:
            for round_number in range(1, args.rounds + 1):
                rate = delivery_rate(services, f"bench_webhooks_{round_number}", args.deliveries)
                forking = noop_rate(services, f"bench_noop_fork_{round_number}", args.noop_jobs,
                                    worker_class=None)
                simple = noop_rate(services, f"bench_noop_simple_{round_number}", args.noop_jobs,
                                   worker_class="rq.worker.SimpleWorker")
                print(
                    f"round {round_number}: webhook deliveries/s {rate:6.1f} | raw RQ no-op jobs/s: rq "
                    f"worker "
                    f"{forking:6.1f}, SimpleWorker {simple:6.1f} | deliveries/no-op = {rate / forking:.2f}x "
                    f"(rq worker), {rate / simple:.2f}x (SimpleWorker)", flush=True)
                time.sleep(1)
        finally:
            services.close()


if __name__ == "__main__":
    main()
