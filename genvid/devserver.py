"""`genvid dev` and `genvid serve`: the web server (gunicorn) and the worker under one supervisor.

The supervisor binds the port itself and hands the listening socket to gunicorn (`--bind fd://N`): a port in
use is one clear error before anything starts, "serving on" is printed only once the port is ours, and a
reload never closes it (requests wait in the backlog while gunicorn restarts).

Children run in sessions of their own, so a Ctrl-C in the terminal reaches only the supervisor, which stops
them in order: web and worker first (the worker lets its current job finish and stops its scheduler), then,
when the supervisor exits, the embedded Redis and PostgreSQL (genvid.infra.embedded also keeps them out of the
terminal's reach). Nothing is left for the next start to recover. Should the supervisor itself be killed, the
kernel signals the children (processes.die_with_parent).

In `dev`, a change to a source file restarts web and worker. One watcher (watchfiles) serves both: gunicorn's
own --reload would restart only the web process.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from genvid.infra import processes

ROOT = Path(__file__).resolve().parent.parent
WATCHED = (ROOT / "genvid", ROOT / "db", ROOT / "wsgi.py", ROOT / "gunicorn.conf.py")
STOP_TIMEOUT_SECONDS = 25.0       # Heroku gives a dyno 30 s between SIGTERM and SIGKILL


class PortInUse(Exception):
    """The port the web server should listen on is taken by another process."""


@dataclass(frozen=True)
class Child:
    """A process the supervisor runs: a name for messages and its command line."""

    name: str
    command: Sequence[str]


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; PortInUse with a readable message when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use (another genvid?); stop that process "
                            f"or set PORT to a free port") from None
        raise
    sock.listen(2048)
    return sock


def gunicorn(sock: socket.socket) -> Child:
    """The Procfile's web process, serving on an already bound socket."""
    return Child("web", [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                         "--chdir", str(ROOT), "--bind", f"fd://{sock.fileno()}", "wsgi:app"])


def worker() -> Child:
    """The Procfile's worker process."""
    return Child("worker", [sys.executable, "-m", "genvid.cli", "worker"])


def supervise(children: Sequence[Child], *, env: Mapping[str, str], pass_fds: Sequence[int] = (),
              reload: bool = False) -> int:
    """Run children until one exits or a SIGINT/SIGTERM arrives; with reload, restart them on code changes.

    Returns 0 after a requested stop, else the exit code of the child that ended first.
    """
    stop = threading.Event()
    with _stop_on_signals(stop):
        running = _start(children, env, pass_fds)
        try:
            for changed in _ticks(stop, reload):
                if changed:
                    print(f"genvid: {changed} changed; restarting web and worker", file=sys.stderr,
                          flush=True)
                    _stop_all(running)
                    running = _start(children, env, pass_fds)
                    continue
                ended = next((child for child in running if child.poll() is not None), None)
                if ended is not None:
                    return ended.returncode or 1
            return 0
        finally:
            _stop_all(running)


def _ticks(stop: threading.Event, reload: bool) -> Iterator[str | None]:
    """Yield None every few tenths of a second, or a changed file's name (reload only), until stop is set."""
    if not reload:
        while not stop.wait(0.2):
            yield None
        return
    import watchfiles  # the `local` extra: only `genvid dev` reloads

    for changes in watchfiles.watch(*WATCHED, watch_filter=watchfiles.PythonFilter(), stop_event=stop,
                                    rust_timeout=200, yield_on_timeout=True, raise_interrupt=False):
        yield _describe(changes) if changes else None


def _describe(changes: Iterable[tuple[object, str]]) -> str:
    names = sorted({os.path.relpath(path, ROOT) for _change, path in changes})
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def _start(children: Sequence[Child], env: Mapping[str, str],
           pass_fds: Sequence[int]) -> list[subprocess.Popen]:
    return [subprocess.Popen(list(child.command), env=dict(env), pass_fds=tuple(pass_fds),
                             start_new_session=True,  # out of the terminal's process group: no stray Ctrl-C
                             preexec_fn=processes.die_with_parent)  # noqa: PLW1509 - only prctl(), async-signal-safe
            for child in children]


def _stop_all(running: list[subprocess.Popen]) -> None:
    """SIGTERM every child at once, wait for them (each finishes its work),
    SIGKILL what outlives the timeout."""
    for proc in running:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in running:
        try:
            proc.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        _kill_session(proc)  # a child past the timeout, and anything it left in its session, goes now


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
