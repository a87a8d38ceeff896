"""Instructions per get-session: genvid's app against the baseline app, counted by valgrind (callgrind).

    .venv/bin/python bench/auth_instructions.py [--requests 500]      (about 2 minutes; needs valgrind)

Throughput on a shared machine swings by half between runs (bench/auth.py); instruction counts do not. Both
WSGI apps run in one process under callgrind and serve the same get-session as bench/auth.py measures it (a
session cookie for genvid, a bearer token for bench/auth_baseline.py), called directly as a WSGI server calls
them, close() included; the access log goes to /dev/null. Counted: user-space instructions per request, the
apps' own work, where the two differ. Not counted: gunicorn's and the kernel's share (nearly the same for
both; genvid's answer has a few more header bytes to check and send), PostgreSQL's and the load generator's.
Adding about the same cost to both sides moves a ratio below 1 towards 1, so the printed ratio is about a
floor for the throughput ratio on a saturated machine.
"""
from __future__ import annotations

import argparse
import base64
import glob
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.test import EnvironBuilder

from bench.auth import services

MARK = "@@phase"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="get-session requests counted per app")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        serve_counted(args.requests)
    else:
        count(args.requests)


def count(requests: int) -> None:
    """Run the child under callgrind; zero its counters before genvid's requests, dump after each app's."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("bench/auth_instructions.py needs valgrind (callgrind and callgrind_control)")
    with tempfile.TemporaryDirectory(prefix="genvid-bench-") as tmp:
        database_url, redis_url, keep = services(Path(tmp))
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
        out = f"{tmp}/callgrind.%p"
        child = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
             "--child", "--requests", str(requests)],
            env=env, cwd=str(ROOT), stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
            text=True)
        assert child.stdin is not None and child.stderr is not None
        actions = {"1": "--zero", "2": "--dump", "3": "--dump"}
        for line in child.stderr:
            if line.startswith(MARK):
                phase = line.split()[1]
                subprocess.run(["callgrind_control", actions[phase], str(child.pid)], check=True,
                               capture_output=True)
                child.stdin.write("go\n")
                child.stdin.flush()
        if child.wait() != 0:
            sys.exit(f"the counted process failed ({child.returncode})")
        genvid, baseline = (_total(f"{tmp}/callgrind.{child.pid}.{dump}") / requests for dump in (1, 2))
        del keep
    print(f"GET /api/auth/get-session, {requests} requests per app, user-space instructions per request")
    print(f"  genvid     {genvid:12,.0f}")
    print(f"  baseline   {baseline:12,.0f}")
    print(
        f"  baseline/genvid {baseline / genvid:.3f}x   (about a floor for the throughput ratio that "
        f"bench/auth.py"
        " holds to >= 0.80)")


def _total(dump: str) -> int:
    for path in glob.glob(dump):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    raise RuntimeError(f"no callgrind totals in {dump}")


def serve_counted(requests: int) -> None:
    """In the counted process: both apps warmed up, then genvid's requests, then the baseline's."""
    import logging

    from genvid.infra.migrations import apply_migrations
    database_url = os.environ["DATABASE_URL"]
    apply_migrations(database_url)
    env = {"DATABASE_URL": database_url, "REDIS_URL": os.environ["REDIS_URL"], "ENVIRONMENT": "production",
           "BETTER_AUTH_SECRET": secrets.token_urlsafe(48), "RATE_LIMIT": "off",
           "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "BETTER_AUTH_URL": "http://127.0.0.1:5000", "TRUSTED_ORIGINS": "http://localhost:5173",
           "JWT_KEY_ENCRYPTION": "better_auth", "BCRYPT_ROUNDS": "4"}
    os.environ.update(env)
    import bench.auth_baseline as baseline
    from genvid import create_app
    from genvid.config import load as load_config
    from genvid.infra import services
    app = create_app(services.start(load_config(env)))   # as wsgi.py does
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))     # noqa: SIM115  (open for the process's life)
    signed_up = app.test_client().post(
        "/api/auth/sign-up/email", headers={"Origin": "http://localhost:5173"},
        json={"email": "bench@example.com", "password": "correct horse battery", "name": "Bench"})
    cookie = signed_up.headers.getlist("Set-Cookie")[0].split(";")[0]
    token = signed_up.get_json()["token"]
    genvid_call = _caller(app, {"Cookie": cookie})
    baseline_call = _caller(baseline.app, {"Authorization": f"Bearer {token}"})
    for _ in range(100):
        genvid_call()
        baseline_call()
    for phase, call in (("1", genvid_call), ("2", baseline_call)):
        _wait_for_parent(phase)
        for _ in range(requests):
            call()
    _wait_for_parent("3")


def _wait_for_parent(phase: str) -> None:
    """Tell the parent this phase is about to start
    (it zeroes or dumps the counters) and wait until it has."""
    print(MARK, phase, file=sys.stderr, flush=True)
    sys.stdin.readline()


def _caller(app: Callable[..., Iterable[bytes]], headers: dict[str, str]) -> Callable[[], None]:
    """One GET /api/auth/get-session through app, as a WSGI server makes it (close() included)."""
    base = EnvironBuilder("/api/auth/get-session", base_url="http://127.0.0.1:5000",
                          headers=list(headers.items())).get_environ()

    def call() -> None:
        # A fresh environ per request, as a server makes one (genvid keeps per-request values in it).
        environ: dict[str, Any] = {**base, "wsgi.input": io.BytesIO(b"")}
        status: list[str] = []
        body = app(environ, lambda line, _headers, _exc=None: status.append(line))
        b"".join(body)
        close = getattr(body, "close", None)
        if close is not None:
            close()
        if not status or not status[0].startswith("200"):
            raise RuntimeError(f"get-session answered {status}")
    return call


if __name__ == "__main__":
    main()
