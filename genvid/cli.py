"""The `genvid` command: serve, worker, migrate, db reset, dev, and each domain's own commands."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from genvid.auth import apikey_commands
from genvid.billing import commands as billing_commands
from genvid.config import Config, load_or_exit
from genvid.videos import commands as video_commands

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load the configuration (every problem at once), run the subcommand."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_or_exit()
    except SystemExit as exc:
        return int(exc.code or 2)
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
    sub.add_parser("migrate", help="apply pending migrations (the release step)").set_defaults(
        func=cmd_migrate)
    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    reset = db.add_parser("reset", help="drop and re-create the schema (development only)")
    reset.add_argument("--yes", action="store_true", help="really drop every table")
    reset.set_defaults(func=cmd_db_reset)
    sub.add_parser("dev", help="embedded services + migrations + web + worker").set_defaults(func=cmd_dev)
    for domain_commands in (apikey_commands, billing_commands, video_commands):   # each adds its subcommands
        domain_commands.register(sub)
    return parser


def _with_services(config: Config) -> Config:
    """config with database and Redis URLs, starting embedded services for any that is unset."""
    if config.database_url and config.redis_url:
        return config
    from genvid.infra import embedded
    return embedded.ensure_services(config)


def _child_env(config: Config) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = config.database_url or ""
    env["REDIS_URL"] = config.redis_url or ""
    env["BETTER_AUTH_SECRET"] = config.better_auth_secret
    env["ENCRYPTION_KEY"] = config.encryption_key
    return env


def cmd_migrate(_args: argparse.Namespace, config: Config) -> int:
    from genvid.infra.migrations import MigrationsMissing, apply_migrations
    config = _with_services(config)
    try:
        applied = apply_migrations(config.database_url or "")
    except MigrationsMissing as exc:
        print(f"genvid: {exc}; this install of genvid is incomplete", file=sys.stderr)
        return 1
    print(f"migrations applied: {len(applied)}" + (f" ({', '.join(applied)})" if applied else ""))
    return 0


def cmd_db_reset(args: argparse.Namespace, config: Config) -> int:
    from genvid.errors import AppError
    from genvid.infra.migrations import reset_database
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
    return _serve(config, with_worker=False, reload=False)


def cmd_dev(_args: argparse.Namespace, config: Config) -> int:
    """What `make run` runs: one command for a whole working backend on a laptop."""
    from genvid.infra.migrations import apply_migrations
    config = _with_services(config)
    apply_migrations(config.database_url or "")
    return _serve(config, with_worker=True, reload=True)


def _serve(config: Config, *, with_worker: bool, reload: bool) -> int:
    """Bind PORT, then run gunicorn on it (and a worker) under genvid.devserver's supervisor."""
    from genvid import devserver
    config = _with_services(config)
    try:
        sock = devserver.listen(config.bind_host, config.port)
    except devserver.PortInUse as exc:
        print(f"genvid: {exc}", file=sys.stderr)
        return 1
    with sock:
        children = [devserver.gunicorn(sock)] + ([devserver.worker()] if with_worker else [])
        what = "web + worker" if with_worker else "web"
        extra = ", reloading on code changes" if reload else ""
        print(f"genvid: serving on {config.better_auth_url} ({what}{extra}); Ctrl-C stops everything",
              file=sys.stderr, flush=True)
        code = devserver.supervise(children, env=_child_env(config), pass_fds=[sock.fileno()], reload=reload)
    print("genvid: stopped", file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
