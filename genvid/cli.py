"""The `genvid` command: serve, worker, migrate, db reset, dev, and each domain's own commands."""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from genvid.config import Config, ConfigError

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_COMMANDS = ("genvid.auth.commands", "genvid.billing.commands", "genvid.videos.commands")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load the configuration (every problem at once), run the subcommand."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = Config.load()
    except ConfigError as exc:
        print(f"genvid: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, config) or 0)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genvid", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the API with gunicorn on PORT").set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run an RQ worker (with the scheduler)")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply pending migrations (the release step)").set_defaults(func=cmd_migrate)
    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    reset = db.add_parser("reset", help="drop and re-create the schema (development only)")
    reset.add_argument("--yes", action="store_true", help="really drop every table")
    reset.set_defaults(func=cmd_db_reset)
    sub.add_parser("dev", help="embedded services + migrations + web + worker").set_defaults(func=cmd_dev)
    for module_name in DOMAIN_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def _with_services(config: Config) -> Config:
    """config with database and Redis URLs, starting embedded services for any that is unset."""
    if config.database_url and config.redis_url:
        return config
    from genvid import embedded
    return embedded.ensure_services(config)


def _child_env(config: Config) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = config.database_url or ""
    env["REDIS_URL"] = config.redis_url or ""
    env["BETTER_AUTH_SECRET"] = config.better_auth_secret
    env["ENCRYPTION_KEY"] = config.encryption_key
    return env


def cmd_migrate(_args: argparse.Namespace, config: Config) -> int:
    from genvid.migrate import apply_migrations
    config = _with_services(config)
    applied = apply_migrations(config.database_url or "")
    print(f"migrations applied: {len(applied)}" + (f" ({', '.join(applied)})" if applied else ""))
    return 0


def cmd_db_reset(args: argparse.Namespace, config: Config) -> int:
    from genvid.errors import AppError
    from genvid.migrate import reset_database
    if not args.yes:
        print("genvid db reset drops every table; run it again with --yes", file=sys.stderr)
        return 2
    try:
        applied = reset_database(_with_services(config))
    except AppError as exc:
        print(f"genvid: {exc.message}", file=sys.stderr)
        return 2
    print(f"database reset; migrations applied: {len(applied)}")
    return 0


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    from genvid import worker
    worker.run(_with_services(config), burst=args.burst)
    return 0


def cmd_serve(_args: argparse.Namespace, config: Config) -> int:
    config = _with_services(config)
    return _supervise([_gunicorn_command()], _child_env(config))


def cmd_dev(_args: argparse.Namespace, config: Config) -> int:
    """What `make run` runs: one command for a whole working backend on a laptop."""
    from genvid.migrate import apply_migrations
    config = _with_services(config)
    apply_migrations(config.database_url or "")
    print(f"genvid: serving on http://localhost:{config.port} (web + worker); Ctrl-C stops everything",
          flush=True)
    return _supervise([_gunicorn_command(), [sys.executable, "-m", "genvid.cli", "worker"]], _child_env(config))


def _gunicorn_command() -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", str(ROOT),
            "wsgi:app"]


def _supervise(commands: list[list[str]], env: dict[str, str]) -> int:
    """Run children until one exits or we are told to stop; then stop them all, gracefully first."""
    children = [subprocess.Popen(command, env=env) for command in commands]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    codes = [child.returncode for child in children]
    return 0 if stopping else next((code for code in codes if code), 0)


if __name__ == "__main__":
    sys.exit(main())
