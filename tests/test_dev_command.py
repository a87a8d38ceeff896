"""`genvid dev` (what `make run` runs) and `genvid serve` as a person at a terminal meets them: quiet start,
"serving on" once the port is bound, one clear error for a port in use, reload on code changes, and a Ctrl-C
that stops everything in order with no traceback and nothing left for the next start to recover.

Ctrl-C is sent as a terminal sends it: SIGINT to the whole foreground process group.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import requests
from servers import free_port

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 120.0          # generous: a first start initialises PostgreSQL, and the machine may be busy


class Terminal:
    """A command in a process group of its own, its stderr collected line by line, as a terminal runs it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "genvid.cli", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not condition():
            assert self.proc.poll() is None, (f"exited with {self.proc.returncode} before {what}:\n"
                                              f"{self.output}")
            assert time.monotonic() < deadline, f"no {what} within {DEADLINE} s:\n{self.output}"
            time.sleep(0.1)

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=DEADLINE)
        self._reader.join(timeout=10)
        return code


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    """A development environment with nothing configured: genvid starts embedded services of its own."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(ENVIRONMENT="development", GENVID_DATA_DIR=str(tmp_path / "data"), PORT=str(free_port()),
               LOG_LEVEL="INFO")
    return env


@pytest.fixture
def dev(dev_env: dict[str, str]) -> Iterator[Terminal]:
    terminal = Terminal(["dev"], dev_env)
    yield terminal
    _stop(terminal, dev_env)


def _stop(terminal: Terminal, env: dict[str, str]) -> None:
    """After a failed test too: Ctrl-C first (so the supervisor stops what it started),
    then kill leftovers."""
    if terminal.proc.poll() is None:
        try:
            terminal.ctrl_c()
        except subprocess.TimeoutExpired:
            os.killpg(terminal.proc.pid, signal.SIGKILL)
            terminal.proc.wait()
    for leftover in _processes_using(env["GENVID_DATA_DIR"]):   # embedded services of a killed supervisor
        leftover.kill()


def _health(port: str) -> int:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code
    except requests.ConnectionError:
        return 0


def _processes_using(data_dir: str) -> list[psutil.Process]:
    """Every process whose command line names data_dir: the embedded PostgreSQL and Redis."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(data_dir in part for part in (proc.info["cmdline"] or [])):
            found.append(proc)
    return found


def _web_and_worker(terminal: Terminal) -> set[int]:
    """The pids of the supervisor's gunicorn and worker children (its other child is the embedded Redis)."""
    return {child.pid for child in psutil.Process(terminal.proc.pid).children()
            if any(part in ("gunicorn", "worker") for part in child.cmdline())}


def _serving(terminal: Terminal) -> bool:
    return any("serving on" in line for line in terminal.lines)


def test_dev_serves_then_ctrl_c_stops_everything_quietly(dev: Terminal, dev_env: dict[str, str]) -> None:
    """One line says where it serves, and only once the port answers; Ctrl-C stops web, worker, scheduler,
    Redis and PostgreSQL with exit status 0, no traceback and no error, and leaves no process behind."""
    dev.wait_for(lambda: _serving(dev), "'serving on' line")
    assert _health(dev_env["PORT"]) == 200                     # bound before it said so: answers at once
    dev.wait_for(lambda: any("worker starting" in line for line in dev.lines), "worker start")
    family = psutil.Process(dev.proc.pid).children(recursive=True)
    services = _processes_using(dev_env["GENVID_DATA_DIR"])
    assert services, "the embedded PostgreSQL and Redis run under the data dir"

    assert dev.ctrl_c() == 0
    assert "Traceback" not in dev.output and "Error" not in dev.output, dev.output
    assert dev.lines[-1] == "genvid: stopped"
    assert '"logger":"rq.' not in dev.output, "rq narrates its jobs at INFO only in production"
    _gone, alive = psutil.wait_procs(family + services, timeout=30)
    assert not alive, alive
    first_lines = [line for line in dev.lines if not line.startswith("{")]
    assert first_lines[0].startswith("genvid: serving on http://localhost:"), dev.output


def test_a_restart_finds_nothing_to_recover(dev: Terminal, dev_env: dict[str, str]) -> None:
    """After a Ctrl-C, the next start does not release any dead worker's scheduler lock: none was left."""
    dev.wait_for(lambda: any("worker starting" in line for line in dev.lines), "worker start")
    assert dev.ctrl_c() == 0
    again = Terminal(["dev"], dev_env)
    try:
        again.wait_for(lambda: any("worker starting" in line for line in again.lines), "second worker start")
        assert _health(dev_env["PORT"]) == 200
        assert again.ctrl_c() == 0
    finally:
        _stop(again, dev_env)
    assert "dead worker" not in again.output, again.output
    assert "Traceback" not in again.output


def test_port_in_use_is_one_clear_error(dev_env: dict[str, str], services) -> None:  # type: ignore[no-untyped-def]
    """A second server on a taken port says so in one line and exits non-zero, without starting anything."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(dev_env["PORT"])))
        taken.listen()
        env = {**dev_env, "DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url}
        result = subprocess.run([sys.executable, "-m", "genvid.cli", "serve"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert result.returncode == 1
    expected = (f"genvid: port {dev_env['PORT']} on 127.0.0.1 is already in use (another genvid?); stop that "
                "process or set PORT to a free port")
    assert result.stderr.strip().splitlines() == [expected]
    assert "serving on" not in result.stdout + result.stderr


def test_development_listens_on_loopback_only(dev: Terminal, dev_env: dict[str, str]) -> None:
    """In development the port is bound on 127.0.0.1, not on every interface."""
    dev.wait_for(lambda: _serving(dev), "'serving on' line")
    port = int(dev_env["PORT"])
    listening = {conn.laddr for conn in psutil.net_connections("tcp")
                 if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port}
    assert {address.ip for address in listening} == {"127.0.0.1"}


def test_a_source_change_restarts_web_and_worker(dev: Terminal, dev_env: dict[str, str]) -> None:
    """Touching a source file restarts both processes; the port keeps answering."""
    dev.wait_for(lambda: any("worker starting" in line for line in dev.lines), "worker start")
    before = _web_and_worker(dev)
    os.utime(ROOT / "wsgi.py")                                 # mtime only: the content is unchanged
    dev.wait_for(lambda: any("wsgi.py changed; restarting web and worker" in line for line in dev.lines),
                 "reload line")
    dev.wait_for(lambda: sum("worker starting" in line for line in dev.lines) == 2, "worker restart")
    after = _web_and_worker(dev)
    assert len(after) == 2 and not before & after
    assert _health(dev_env["PORT"]) == 200
    assert dev.ctrl_c() == 0
