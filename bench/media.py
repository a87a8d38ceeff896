"""Media downloads through genvid's signed links: S3-compatible storage (302 to a presigned GET) vs disk
(genvid sends the file), for one 50 MB video.

Two gunicorn web processes as the Procfile runs them (the same settings, WEB_CONCURRENCY=2), one with
MEDIA_DIR, one with MEDIA_STORAGE_URL pointing at a local S3 (moto's server, tests/fakes/s3.py, in a process
of its own). The same random 50 MB file is saved through each store's production code (S3: a multipart
upload). Then, in interleaved rounds on one keep-alive session per store: a 1 MiB Range at the start, a 1 MiB
Range in the middle, the whole file; medians and S3/disk ratios, plus the web process tree's CPU seconds for
the whole downloads (what serving the bytes costs the web dynos).

moto is a pure-Python server, far slower per byte than real S3 or R2: read the Range latencies (the redirect's
extra round trip) and the web CPU column, not the whole-file times, as what production would see.

    .venv/bin/python bench/media.py [--rounds 5] [--megabytes 50]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._util import cpu_seconds, free_port, start, stop
from genvid.videos import media

SECRET = "bench-media-secret-0123456789abcdef0123456789"
KEY = "videos/benchvideo/video.mp4"
MIB = 1024 * 1024


def _tree_cpu_seconds(pid: int) -> float:
    """utime + stime of pid and its descendants (gunicorn's master and its workers)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        total += cpu_seconds(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def _web(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return start([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                 env={**env, "PORT": str(port)}, port=port, cwd=str(ROOT))


def _link(port: int) -> str:
    expires, signature = media.sign(KEY, now=time.time(), secret=SECRET, ttl=3600)
    return f"http://127.0.0.1:{port}/api/media/{KEY}?expires={expires}&signature={signature}"


def _timed(call: Callable[[], bytes], expected: bytes) -> float:
    started = time.perf_counter()
    body = call()
    elapsed = time.perf_counter() - started
    assert body == expected, "wrong bytes"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    payload = os.urandom(args.megabytes * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="genvid-bench-media-") as tmp:
        work = Path(tmp)
        s3 = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.s3", "--port", "0", "--bucket", "bench-media"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert s3.stdout is not None
        endpoint = s3.stdout.readline().strip()
        base = {**os.environ, "ENVIRONMENT": "development", "BETTER_AUTH_SECRET": SECRET,
                "ENCRYPTION_KEY": "00" * 32, "GENVID_DATA_DIR": str(work / "data"), "LOG_LEVEL": "WARNING",
                # /api/media touches neither; the pools open lazily, so these are never dialled.
                "DATABASE_URL": "postgresql://bench@127.0.0.1:9/none", "REDIS_URL": "redis://127.0.0.1:9/0",
                "WEB_CONCURRENCY": "2", "AWS_ACCESS_KEY_ID": "fake-access-key",
                "AWS_SECRET_ACCESS_KEY": "fake-secret-key", "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": endpoint}
        disk_env = {**base, "MEDIA_DIR": str(work / "media")}
        s3_env = {**base, "MEDIA_STORAGE_URL": "s3://bench-media/prod"}
        os.environ.update({k: v for k, v in s3_env.items() if k.startswith("AWS_")})
        from genvid.videos import s3_media

        for store in (media.DiskStorage(work / "media"), s3_media.storage("s3://bench-media/prod")):
            staged = store.staging_file(".mp4")
            staged.write_bytes(payload)
            started = time.perf_counter()
            store.save(KEY, staged)
            elapsed = time.perf_counter() - started
            print(f"save {args.megabytes} MB into {type(store).__name__}: {elapsed:.3f} s")
        ports = {"disk": free_port(), "s3": free_port()}
        webs = {"disk": _web(disk_env, ports["disk"]), "s3": _web(s3_env, ports["s3"])}
        try:
            sessions = {name: requests.Session() for name in webs}
            middle = len(payload) // 2
            cases: dict[str, tuple[dict[str, str], bytes]] = {
                "Range first 1 MiB": ({"Range": f"bytes=0-{MIB - 1}"}, payload[:MIB]),
                "Range 1 MiB mid-file": ({"Range": f"bytes={middle}-{middle + MIB - 1}"},
                                         payload[middle:middle + MIB]),
                f"whole {args.megabytes} MB": ({}, payload),
            }
            timings: dict[tuple[str, str], list[float]] = {}
            cpu: dict[str, list[float]] = {name: [] for name in webs}
            for name, session in sessions.items():     # warm-up: connections, first-request imports
                session.get(_link(ports[name]), headers=cases["Range first 1 MiB"][0], timeout=120)
            for round_ in range(args.rounds):
                order = list(webs) if round_ % 2 == 0 else list(reversed(webs))
                for name in order:
                    for case, (headers, expected) in cases.items():
                        def fetch(name: str = name, headers: dict[str, str] = headers) -> bytes:
                            answer = sessions[name].get(_link(ports[name]), headers=headers, timeout=300)
                            assert answer.status_code == (206 if headers else 200), answer.status_code
                            assert bool(answer.history) == (name == "s3")      # S3: one 302 first
                            return answer.content
                        before = _tree_cpu_seconds(webs[name].pid)
                        timings.setdefault((name, case), []).append(_timed(fetch, expected))
                        if not headers:
                            cpu[name].append(_tree_cpu_seconds(webs[name].pid) - before)
            print(f"\n{args.rounds} rounds, medians (ms); S3 = genvid's 302 + the presigned GET from moto")
            print(f"{'request':<24}{'disk':>10}{'S3':>10}{'S3/disk':>10}")
            for case in cases:
                disk_ms = statistics.median(timings[("disk", case)]) * 1000
                s3_ms = statistics.median(timings[("s3", case)]) * 1000
                print(f"{case:<24}{disk_ms:>10.1f}{s3_ms:>10.1f}{s3_ms / disk_ms:>9.2f}x")
            print(f"{'web CPU per whole file':<24}{statistics.median(cpu['disk']) * 1000:>10.1f}"
                  f"{statistics.median(cpu['s3']) * 1000:>10.1f}   (ms of the web process tree)")
            # The S3 Range request, taken apart: genvid's answer (the 302) and the store's (the presigned
            # GET).
            headers, expected = cases["Range first 1 MiB"]
            redirects, direct = [], []
            for _ in range(args.rounds * 4):
                started = time.perf_counter()
                answer = sessions["s3"].get(_link(ports["s3"]), headers=headers, allow_redirects=False,
                                            timeout=60)
                redirects.append(time.perf_counter() - started)
                assert answer.status_code == 302
                direct.append(_timed(lambda url=answer.headers["Location"]: sessions["s3"].get(
                    url, headers=headers, timeout=60).content, expected))
            print(f"S3 Range first 1 MiB, apart: genvid's 302 {statistics.median(redirects) * 1000:.1f} ms, "
                  f"moto's presigned GET {statistics.median(direct) * 1000:.1f} ms")
        finally:
            for process in webs.values():
                stop(process)
            s3.terminate()
            s3.wait(timeout=30)


if __name__ == "__main__":
    main()
