"""Heroku-style dynos for the deploy rehearsal (tests/test_deploy_rehearsal.py).

- The slug is what the buildpack ships: the repository's files (git's view: tracked plus new, minus ignored),
  with genvid installed from the production lock alone (the root requirements.txt) into a virtualenv of its
  own, the way the Python buildpack installs it.
- A dyno runs one Procfile process type in a fresh directory holding its own copy of the slug (its working
  directory, HOME and PYTHONPATH, as the buildpack sets them) and its own TMPDIR: two dynos share no writable
  disk, and discarding a dyno discards everything it wrote, as a dyno restart does.
- The environment is what Heroku gives a dyno: app.json's config vars, the add-ons' URLs, PORT for web, and
  GUNICORN_CMD_ARGS as the buildpack's .profile.d sets it when the app has not.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
LOCK = "requirements.txt"
# What the Python buildpack's vendor/python.gunicorn.sh exports at dyno start unless the app sets it.
BUILDPACK_GUNICORN_CMD_ARGS = "--access-logfile -"
GRACE_SECONDS = 30   # Heroku's time between SIGTERM and SIGKILL


def build_slug(target: Path) -> Path:
    """Copy the repository's files (tracked and new, not ignored) to target, as a git push would ship them."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def install_production(slug: Path, venv: Path) -> list[str]:
    """A fresh virtualenv with genvid installed from the production lock alone; its `pip freeze`."""
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "install", "--quiet", "-r", LOCK], cwd=slug, timeout=1200)
    _run([*pip, "check"], cwd=slug, timeout=300)
    return _run([*pip, "freeze", "--all"], cwd=slug, timeout=300).splitlines()


def _run(command: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                             f"{done.stderr[-3000:]}")
    return done.stdout


def procfile(slug: Path) -> dict[str, str]:
    """The Procfile's process types and their commands."""
    types = {}
    for line in (slug / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            types[name.strip()] = command.strip()
    return types


def app_json_environment(slug: Path, **required: str) -> dict[str, str]:
    """Config vars as creating the app from app.json sets them: each value, a fresh secret for each generator
    (64 hex digits, as Heroku's generator makes), and the given values for the ones the deployer must fill."""
    env: dict[str, str] = {}
    for name, spec in json.loads((slug / "app.json").read_text())["env"].items():
        if "value" in spec:
            env[name] = spec["value"]
        elif spec.get("generator") == "secret":
            env[name] = secrets.token_hex(32)
        elif name in required:
            env[name] = required[name]
        elif spec.get("required", True):
            raise AssertionError(f"app.json requires {name}; the rehearsal gave no value")
    unknown = set(required) - set(env)
    assert not unknown, f"not declared in app.json: {sorted(unknown)}"
    return env


class Dyno:
    """One process type running in a directory of its own; start() again after discard() is a fresh dyno."""

    def __init__(self, name: str, command: str, *, home: Path, slug: Path, venv: Path,
                 env: dict[str, str]) -> None:
        self.name, self.command, self.slug, self.venv = name, command, slug, venv
        self.directory = home / name
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[Any] | None = None

    @property
    def app_dir(self) -> Path:
        return self.directory / "app"

    @property
    def log_path(self) -> Path:
        # Outside the dyno's directory, so discarding the dyno keeps its log for a failing test's report.
        return self.directory.parent / f"{self.name}.log"

    def _prepare(self) -> dict[str, str]:
        assert not self.directory.exists(), f"{self.directory} is not empty"
        shutil.copytree(self.slug, self.app_dir, symlinks=True)
        (self.directory / "tmp").mkdir()
        # As the Python buildpack's .profile.d sets up a dyno: HOME is the app's directory and on PYTHONPATH.
        env = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(self.app_dir),
               "PYTHONPATH": str(self.app_dir), "PYTHONUNBUFFERED": "true",
               "TMPDIR": str(self.directory / "tmp"),
               "LANG": "C.UTF-8", "DYNO": self.name, "PYTHONFAULTHANDLER": "1", **self.env}
        env["GUNICORN_CMD_ARGS"] = env.get("GUNICORN_CMD_ARGS") or BUILDPACK_GUNICORN_CMD_ARGS
        return env

    def start(self) -> Dyno:
        """Start the command as its own process group (so stop() ends the whole tree)."""
        env = self._prepare()
        self._log = open(self.log_path, "ab")   # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(["bash", "-c", self.command], cwd=self.app_dir, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def run_once(self, *, timeout: float = 300) -> str:
        """A one-off dyno (release phase, `heroku run`): run to completion, then discard; its output."""
        env = self._prepare()
        try:
            return _run(["bash", "-c", self.command], cwd=self.app_dir, env=env, timeout=timeout)
        finally:
            self.discard()

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"dyno {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def stop(self) -> float:
        """SIGTERM to the process group, as Heroku does, and SIGKILL 30 s later if it is still there (first
        SIGABRT, so faulthandler writes every thread's stack to the log). Returns the seconds it took."""
        started = time.monotonic()
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGABRT)
                time.sleep(2)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return time.monotonic() - started

    def discard(self) -> None:
        """Throw the dyno's directory away (its working copy, TMPDIR, HOME)."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def files_written(self) -> list[str]:
        """Files in the dyno's directory that the slug did not bring (what the process left on its disk)."""
        shipped = {p.relative_to(self.slug) for p in self.slug.rglob("*")}
        return sorted(str(p.relative_to(self.directory)) for p in self.directory.rglob("*")
                      if p.is_file()
                      and not (p.is_relative_to(self.app_dir) and p.relative_to(self.app_dir) in shipped)
                      and "__pycache__" not in p.parts)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_until(condition: Any, what: str, *, timeout: float = 180.0, dynos: tuple[Dyno, ...] = ()) -> Any:
    """Poll condition() until it returns something truthy; fail naming what, or a dyno that died meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        for dyno in dynos:
            dyno.check_alive()
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {d.name}\n{d.log_tail()}" for d in dynos)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.2)
