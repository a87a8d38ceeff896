"""Batches benchmark (issue 17, Performance): a 1,000-row batch accepted, and fairness, beside same-run
baselines.

    .venv/bin/python bench/batches.py [--rounds 5] [--rows 1000] [--render-seconds 20]

One embedded PostgreSQL + Redis; each phase gets a fresh database and Redis db; processes run as the Procfile
runs them (web: gunicorn -c gunicorn.conf.py wsgi:app; worker: genvid worker).
 1. Acceptance. POST /api/batches with a 1,000-row CSV upload (every row validated, priced, the batch and its
    1,000 videos stored and paid in one statement, each row due for the dispatcher) under gunicorn, in rounds
    interleaved with the baseline, one POST /api/videos (one video validated, priced, stored, paid). Printed:
    the median batch time (target < 2 s), the median single create, and their ratio; the same for a JSON body.
 2. Fairness. One `genvid worker`, the fake HeyGen with a --render-seconds render time and its webhooks (so a
    finished render frees its slot at once), HEYGEN_MAX_CONCURRENT=10. User A posts a 1,000-row batch; once
    its first ten rows are in flight, user B posts one video. Measured: how long B's video waited to start
    (POST to its create request upstream) beside one render slot's wait (B's POST to the first of A's renders
    finishing, which frees a slot), and how many of A's rows started in between (target: B starts within one
    render slot's wait, and no row of A's starts before it). For scale: first-come-first-served would make B
    wait for every row queued before it.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._util import settle
from bench._videos_util import API_KEY, Services, Stack, TimedFake

RESULTS: list[tuple[str, str, str, bool | None]] = []     # (measure, value, target, met)
SLOTS = 10


def record(measure: str, value: str, target: str = "", met: bool | None = None) -> None:
    RESULTS.append((measure, value, target, met))
    verdict = "" if met is None else ("  MET" if met else "  MISSED")
    print(f"  {measure:52s} {value:>16s}  {target}{verdict}", flush=True)


def rows_csv(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "company", "city"])
    for n in range(1, count + 1):
        writer.writerow([f"Person {n}", f"Company {n}, Ltd", f"City {n % 97}"])
    return ("\ufeff" + out.getvalue()).encode()


def template(avatar_id: str, voice_id: str) -> dict[str, Any]:
    return {"avatar_id": avatar_id, "voice_id": voice_id, "title": "For {{name}}",
            "script": "Hello {{name}}! Everyone at {{company}} in {{city}} is invited to our spring launch. "
                      "We made this short video for you, so that you hear it from us first."}


def phase_accept(services: Services, args: argparse.Namespace) -> None:
    """A 1,000-row batch accepted, beside one video created, same gunicorn, same user, interleaved rounds."""
    stack = Stack(services, "bench_batches_accept", VIDEO_PROVIDER="local")
    try:
        stack.cli("catalog", "sync")
        stack.web()
        (user,) = stack.users(1, credits=10 * args.rows * (args.rounds + 1) + 10_000)
        avatar_id, voice_id = stack.first_ids(user)
        batch_template = template(avatar_id, voice_id)
        headers = {key: value for key, value in stack.headers(user).items() if key != "Content-Type"}
        session = requests.Session()
        upload = rows_csv(args.rows)
        json_rows = list(csv.DictReader(io.StringIO(upload.decode("utf-8-sig"))))
        video = {**batch_template, "script": "Hello Person 1! Everyone at Company 1, Ltd is invited.",
                 "title": None}

        def single() -> float:
            began = time.perf_counter()
            answer = session.post(f"{stack.url}/api/videos", json=video, headers=headers, timeout=60)
            elapsed = time.perf_counter() - began
            assert answer.status_code == 202, answer.text[:300]
            return elapsed

        def batch(as_json: bool) -> float:
            began = time.perf_counter()
            if as_json:
                answer = session.post(f"{stack.url}/api/batches",
                                      json={"template": batch_template, "rows": json_rows},
                                      headers=headers, timeout=120)
            else:
                answer = session.post(f"{stack.url}/api/batches", headers=headers, timeout=120,
                                      data={"template": json.dumps(batch_template)},
                                      files={"rows": ("people.csv", upload, "text/csv")})
            elapsed = time.perf_counter() - began
            assert answer.status_code == 202, answer.text[:500]
            assert answer.json()["data"]["counts"]["queued"] == args.rows
            return elapsed

        for _ in range(3):                         # warm up the web processes (pools, imports), unmeasured
            single()
        batch(False)
        singles: list[float] = []
        csv_times: list[float] = []
        json_times: list[float] = []
        for _ in range(args.rounds):
            settle()
            singles.extend(single() for _ in range(5))
            csv_times.append(batch(False))
            json_times.append(batch(True))
        with psycopg.connect(stack.database_url) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM videos WHERE batch_id IS NOT NULL AND status = 'queued' "
                "AND next_check_at IS NOT NULL").fetchone()
        single_ms = statistics.median(singles) * 1000
        print(f"\n[1] acceptance under gunicorn, {args.rounds} interleaved rounds "
              f"(each: 5 x POST /api/videos, one CSV batch, one JSON batch of {args.rows:,} rows)")
        print(f"  batch CSV upload {len(upload) / 1024:.0f} KiB; CSV times (s) "
              + ", ".join(f"{t:.2f}" for t in csv_times) + "; JSON times (s) "
              + ", ".join(f"{t:.2f}" for t in json_times))
        for name, times in (("CSV", csv_times), ("JSON", json_times)):
            median = statistics.median(times)
            record(f"POST /api/batches, {args.rows:,} rows ({name}), median", f"{median:.2f} s", "< 2 s",
                   median < 2.0)
            record(f"  / one POST /api/videos ({single_ms:.1f} ms)", f"{median * 1000 / single_ms:.0f}x", "",
                   None)
            record("  per row / one POST /api/videos", f"{median * 1000 / args.rows / single_ms:.3f}x", "",
                   None)
        record("rows stored queued and due (all rounds + warm-up)", f"{stored[0] if stored else 0:,}",
               f"= {(2 * args.rounds + 1) * args.rows:,}",
               (stored[0] if stored else 0) == (2 * args.rounds + 1) * args.rows)
    finally:
        stack.stop()


def _deliver_webhooks(fake: TimedFake, url: str, stop: threading.Event) -> None:
    """What HeyGen does when a render finishes: POST the signed event
    (the status check is then due at once)."""
    while not stop.wait(0.1):
        fake.deliver_due_webhooks(url_override=url)


def phase_fairness(services: Services, args: argparse.Namespace) -> None:
    """User A's 1,000-row batch renders ten at a time; user B asks for one video: when does it start?"""
    fake = TimedFake(render_seconds=args.render_seconds, page_size=50, require_https_webhooks=False)
    fake.start()
    stack = Stack(services, "bench_batches_fairness", VIDEO_PROVIDER="heygen", HEYGEN_API_KEY=API_KEY,
                  HEYGEN_API_BASE=fake.base_url, HEYGEN_MAX_CONCURRENT=str(SLOTS))
    stop = threading.Event()
    try:
        stack.cli("catalog", "sync")
        stack.cli("heygen", "register-webhook", "https://genvid.bench.invalid/api/webhooks/heygen")
        stack.web()
        user_a, user_b = stack.users(2, credits=10 * args.rows)
        avatar_id, voice_id = stack.first_ids(user_a)
        threading.Thread(target=_deliver_webhooks, args=(fake, f"{stack.url}/api/webhooks/heygen", stop),
                         daemon=True).start()
        stack.worker()
        a_headers = {key: value for key, value in stack.headers(user_a).items() if key != "Content-Type"}
        answer = requests.post(f"{stack.url}/api/batches", headers=a_headers, timeout=120,
                               data={"template": json.dumps(template(avatar_id, voice_id))},
                               files={"rows": ("people.csv", rows_csv(args.rows), "text/csv")})
        assert answer.status_code == 202, answer.text[:500]
        batch_id = answer.json()["data"]["id"]
        deadline = time.monotonic() + 120
        while fake.renders_created < SLOTS:
            stack.check_alive()
            assert time.monotonic() < deadline, "A's first renders never started"
            time.sleep(0.05)
        time.sleep(min(2.0, args.render_seconds / 4))       # B arrives part-way through A's first renders
        asked = time.monotonic()
        answer = requests.post(f"{stack.url}/api/videos", headers=stack.headers(user_b), timeout=60,
                               json={"avatar_id": avatar_id, "voice_id": voice_id,
                                     "script": "Just one, please."})
        assert answer.status_code == 202, answer.text[:300]
        b_video = answer.json()["data"]["id"]
        started = slot_freed = None
        deadline = asked + args.render_seconds * 4 + 60
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            while started is None:
                stack.check_alive()
                assert time.monotonic() < deadline, "B's video never started"
                now = time.monotonic()
                if slot_freed is None:
                    done = conn.execute(
                        "SELECT count(*) FROM videos WHERE batch_id = %s AND status = 'completed'",
                        (batch_id,)).fetchone()
                    if done and done[0]:
                        slot_freed = now
                row = conn.execute("SELECT provider_video_id FROM videos WHERE id = %s",
                                   (b_video,)).fetchone()
                if row and row[0]:
                    started = fake.created_at(row[0])
                    slot_freed = slot_freed or now
                time.sleep(0.02)
            a_started = conn.execute("SELECT provider_video_id FROM videos WHERE batch_id = %s "
                                     "AND provider_video_id IS NOT NULL", (batch_id,)).fetchall()
            waiting = conn.execute("SELECT count(*) FROM videos WHERE batch_id = %s AND status = 'queued'",
                                   (batch_id,)).fetchone()
        overtaking = sum(1 for (provider_id,) in a_started if asked < fake.created_at(provider_id) < started)
        waited, slot_wait = started - asked, slot_freed - asked
        fifo = (args.rows - SLOTS) / SLOTS * args.render_seconds
        print(
            f"\n[2] fairness: one `genvid worker`, HEYGEN_MAX_CONCURRENT={SLOTS}, fake render "
            f"{args.render_seconds:.0f} s "
            f"with webhooks; A's {args.rows:,}-row batch, then B's single video")
        print(f"  A's rows still waiting just after B started: {waiting[0] if waiting else '?'}; "
              f"first-come-first-served would make B wait about {fifo:,.0f} s (every row queued before it)")
        record("B's video: POST to its render starting upstream", f"{waited:.2f} s", "", None)
        record("one render slot's wait (POST to A's first render done)", f"{slot_wait:.2f} s", "", None)
        record("B's wait - slot wait (dispatch tick + job pickup)", f"{waited - slot_wait:+.2f} s", "<= 1 s",
               waited - slot_wait <= 1.0)
        record("A's rows that started while B waited", str(overtaking), "= 0", overtaking == 0)
    finally:
        stop.set()
        stack.stop()
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds in [1]")
    parser.add_argument("--rows", type=int, default=1000, help="rows per batch")
    parser.add_argument("--render-seconds", type=float, default=20.0, help="fake render time in [2]")
    parser.add_argument("--phases", default="1,2", help="which phases to run, e.g. 2")
    args = parser.parse_args()
    began = time.monotonic()
    print(
        f"cores {os.cpu_count()}; embedded PostgreSQL + Redis; load, fake HeyGen and servers share this "
        f"machine",
        flush=True)
    with tempfile.TemporaryDirectory(prefix="genvid-bench-batches-") as tmp:
        services = Services(Path(tmp))
        chosen = {int(p) for p in args.phases.split(",")}
        try:
            for number, phase in ((1, phase_accept), (2, phase_fairness)):
                if number in chosen:
                    phase_began = time.monotonic()
                    phase(services, args)
                    print(f"  ({time.monotonic() - phase_began:.0f} s)", flush=True)
        finally:
            services.close()
    print(f"\nsummary (whole run {time.monotonic() - began:.0f} s)")
    for measure, value, target, met in RESULTS:
        if met is not None:
            print(f"  {'MET   ' if met else 'MISSED'} {measure.strip()}: {value} (target {target})")


if __name__ == "__main__":
    main()
