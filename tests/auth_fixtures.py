"""Fixtures for the better-auth interop tests: Node, the real better-auth server, genvid over real HTTP.

The npm packages are pinned in tests/interop/package-lock.json and installed by `make test` (npm ci). When
Node or the packages are missing the tests fail: they are the proof of compatibility, never optional.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_SECRET, Services
from fakes.serving import ThreadedServer, serve_wsgi
from flask import Flask

from genvid.auth.apikeys import options_from

INTEROP_DIR = Path(__file__).resolve().parent / "interop"
TRUSTED_ORIGIN = "http://localhost:5173"
NODE_TIMEOUT = 240                  # generous: node and better-auth start slowly on a loaded machine


def free_port() -> int:
    """A TCP port nobody listens on right now (two consecutive ones: the mailbox uses port and port + 1)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def node_env(**extra: str) -> dict[str, str]:
    """The environment for Node: never NODE_ENV=test or TEST, which turn better-auth's origin checks off."""
    env = {k: v for k, v in os.environ.items() if k not in ("NODE_ENV", "TEST")}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with tests/interop's pinned packages installed (npm ci if they are not yet)."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail("Node.js is required for the better-auth interop tests (install Node 20+)")
    if not (INTEROP_DIR / "node_modules" / "better-auth").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required to install tests/interop's packages")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=INTEROP_DIR,
                              check=False, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"npm ci in tests/interop failed:\n{done.stderr}")
    return binary


@dataclass
class NodeServer:
    """A running `node server.mjs serve`."""

    url: str
    process: subprocess.Popen[str]


@pytest.fixture
def better_auth(node: str, services: Services, app: Flask) -> Iterator[Callable[..., NodeServer]]:
    """better_auth(mail_hook_port=None, production=False, env=None) starts the real better-auth server on the
    test database, its api-key plugin configured as genvid's (same prefix, rate limit, metadata, default
    permissions) (env: extra variables, such as the social providers of tests/interop/server.mjs)."""
    started: list[NodeServer] = []

    def start(mail_hook_port: int | None = None, production: bool = False,
              env: dict[str, str] | None = None) -> NodeServer:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        variables = node_env(DATABASE_URL=services.database_url, BETTER_AUTH_SECRET=TEST_SECRET,
                             BETTER_AUTH_URL=url, TRUSTED_ORIGINS=TRUSTED_ORIGIN, PORT=str(port),
                             API_KEY_OPTIONS=json.dumps(
                                 options_from(app.config["GENVID"]).better_auth_options()),
                             **(env or {}))
        if production:
            variables["NODE_ENV"] = "production"      # better-auth's rate limiter is on only in production
        if mail_hook_port:
            variables["MAIL_HOOK_URL"] = f"http://127.0.0.1:{mail_hook_port + 1}/"
        process = subprocess.Popen([node, "server.mjs", "serve"], cwd=INTEROP_DIR, env=variables, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert process.stdout is not None
        line = process.stdout.readline()       # {"listening": port} once ready; "" if it died
        if not line.startswith('{"listening"'):
            process.kill()
            pytest.fail(f"better-auth server did not start: {line!r}")
        server = NodeServer(url=url, process=process)
        started.append(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
        server.process.wait(timeout=60)


@pytest.fixture
def serve_genvid(make_app: Callable[..., Flask]) -> Iterator[Callable[..., tuple[str, Flask]]]:
    """serve_genvid(**overrides) serves genvid over HTTP with BETTER_AUTH_URL = its own address, configured
    for the database it shares with the better-auth server of these tests (JWT_KEY_ENCRYPTION=better_auth)."""
    running: list[ThreadedServer] = []

    def serve(**overrides: Any) -> tuple[str, Flask]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = {"better_auth_url": url, "trusted_origins": (TRUSTED_ORIGIN,),
                    "jwt_key_encryption": "better_auth", **overrides}
        application = make_app(**settings)
        running.append(serve_wsgi(application, port))
        return url, application

    yield serve
    for server in running:
        server.stop()


def run_client(node: str, base_url: str, *, tag: str, mailbox_port: int, mode: str = "all") -> dict[str, Any]:
    """Run tests/interop/client.mjs against base_url
    (mode "all" or "ratelimit") and return what it printed."""
    done = subprocess.run([node, "client.mjs", base_url, mode], cwd=INTEROP_DIR, capture_output=True,
                          text=True, check=False, timeout=NODE_TIMEOUT,
                          env=node_env(BETTER_AUTH_SECRET=TEST_SECRET, TRUSTED_ORIGIN=TRUSTED_ORIGIN, TAG=tag,
                                       MAILBOX_PORT=str(mailbox_port)))
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def better_auth_migrate(node: str, database_url: str, *, apply: bool = False) -> dict[str, Any]:
    """better-auth's own migration plan for database_url (getMigrations), run when apply is set."""
    command = [node, "server.mjs", "migrate"] + (["--apply"] if apply else [])
    done = subprocess.run(command, cwd=INTEROP_DIR, capture_output=True, text=True, timeout=NODE_TIMEOUT,
                          check=False, env=node_env(DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET,
                                       BETTER_AUTH_URL="http://127.0.0.1:3005"))
    assert done.returncode == 0, done.stderr[-3000:]
    plan: dict[str, Any] = json.loads(done.stdout)
    return plan
