"""`genvid apikeys ...`: the api-key plugin's server-side calls, for operators.

Over HTTP a user sets a key's name, prefix, expiry and metadata only; quota, refill, rate limit and narrower
permissions are the server's to set (better-auth: `auth.api.createApiKey` / `updateApiKey` on the server):

    genvid apikeys create EMAIL [--name N] [--permissions videos:read,credits:read] [--remaining N]
                                [--refill-amount N --refill-interval-seconds S]
                                [--rate-limit-max N --rate-limit-window-ms MS | --no-rate-limit]
                                [--expires-in-days D] [--prefix P]
    genvid apikeys update KEY_ID [the same options, --enable | --disable]
    genvid apikeys list EMAIL
    genvid apikeys revoke KEY_ID
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

import psycopg

import db.auth_apikeys
import db.auth_users
from db import models
from genvid import clock
from genvid.auth.apikey_json import permissions_out
from genvid.auth.apikey_permissions import parse_permission_list
from genvid.auth.apikey_rules import ApiKeyRefused
from genvid.auth.apikeys import (
    KeyChanges,
    NewKey,
    create_api_key,
    options_from,
    update_own_key,
)
from genvid.config import Config
from genvid.infra import database, services

INT_MAX = 2**31 - 1          # the plugin's integer columns


def register(subparsers: Any) -> None:
    """Add the `apikeys` command group to the genvid CLI."""
    group = subparsers.add_parser("apikeys", help="API keys (better-auth api-key plugin)")
    actions = group.add_subparsers(dest="apikeys_command", required=True)
    create = actions.add_parser("create", help="make a key for a user; the key is printed once")
    create.add_argument("email")
    create.add_argument("--name")
    create.add_argument("--prefix")
    _limits(create)
    create.set_defaults(func=cmd_create)
    update = actions.add_parser("update", help="change a key's permissions, quota or rate limit")
    update.add_argument("key_id")
    _limits(update)
    switch = update.add_mutually_exclusive_group()
    switch.add_argument("--enable", dest="enabled", action="store_const", const=True)
    switch.add_argument("--disable", dest="enabled", action="store_const", const=False)
    update.set_defaults(func=cmd_update)
    listing = actions.add_parser("list", help="a user's keys (by their start; keys are never shown again)")
    listing.add_argument("email")
    listing.set_defaults(func=cmd_list)
    revoke = actions.add_parser("revoke", help="delete a key")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_revoke)


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--permissions", type=_permissions,
                        help="e.g. videos:read,videos:create,credits:read")
    parser.add_argument("--remaining", type=_count, help="uses left (no limit when not given)")
    parser.add_argument("--refill-amount", type=_count)
    parser.add_argument("--refill-interval-seconds", type=_seconds)
    parser.add_argument("--rate-limit-max", type=_count)
    parser.add_argument("--rate-limit-window-ms", type=_count)
    parser.add_argument("--no-rate-limit", action="store_true")
    parser.add_argument("--expires-in-days", type=float)


def cmd_create(args: argparse.Namespace, config: Config) -> int:
    services.start(config)
    with database.connection() as conn:
        user = _user(conn, args.email)
        if user is None:
            return 1
        request = NewKey(name=args.name, prefix=args.prefix, permissions=args.permissions,
                         **_server_fields(args))
        try:
            row, key = create_api_key(conn, user_id=user.id, request=request, options=options_from(config),
                                      now=clock.now())
        except ApiKeyRefused as refused:
            print(f"genvid: {refused.message}", file=sys.stderr)
            return 2
    print(f"key {row.id} for {user.email} (shown once, store it now):\n{key}")
    return 0


def cmd_update(args: argparse.Namespace, config: Config) -> int:
    services.start(config)
    fields = {name: value for name, value in _server_fields(args).items() if value is not None}
    if args.no_rate_limit:
        fields["rate_limit_enabled"] = False
    if args.permissions is not None:
        fields["permissions"] = args.permissions
    if args.enabled is not None:
        fields["enabled"] = args.enabled
    if "refill_amount" in fields and "refill_interval" not in fields or \
            "refill_interval" in fields and "refill_amount" not in fields:
        print("genvid: give --refill-amount and --refill-interval-seconds together", file=sys.stderr)
        return 2
    with database.connection() as conn:
        found = _key(conn, args.key_id)
        if found is None:
            return 1
        try:
            row = update_own_key(conn, user_id=found.reference_id, key_id=found.id,
                                 changes=KeyChanges(**fields), options=options_from(config), now=clock.now())
        except ApiKeyRefused as refused:
            print(f"genvid: {refused.message}", file=sys.stderr)
            return 2
    print(f"key {row.id} updated")
    return 0


def cmd_list(args: argparse.Namespace, config: Config) -> int:
    services.start(config)
    with database.connection() as conn:
        user = _user(conn, args.email)
        if user is None:
            return 1
        rows = db.auth_apikeys.list_api_keys(conn, reference_id=user.id, descending=False,
                                             sort_by="createdAt")
    for row in rows:
        print(
            f"{row.id}  {row.start}...  {row.name or '-'}  "
            f"{'enabled' if row.enabled is not False else 'disabled'}"
            f"  expires {row.expires_at.isoformat() if row.expires_at else 'never'}"
            f"  remaining {row.remaining if row.remaining is not None else 'unlimited'}"
            f"  permissions {permissions_out(row.permissions)}")
    return 0


def cmd_revoke(args: argparse.Namespace, config: Config) -> int:
    services.start(config)
    with database.connection() as conn:
        if _key(conn, args.key_id) is None:
            return 1
        db.auth_apikeys.delete_api_key(conn, id=args.key_id)
    print(f"key {args.key_id} revoked")
    return 0


def _user(conn: psycopg.Connection, email: str) -> models.User | None:
    """The user with that email (case and surrounding blanks do not matter), or None said on stderr."""
    user = db.auth_users.get_user_by_email(conn, email=email.strip().lower())
    if user is None:
        print(f"genvid: no user with email {email}", file=sys.stderr)
    return user


def _key(conn: psycopg.Connection, key_id: str) -> models.Apikey | None:
    """The key with that id, or None said on stderr."""
    row = db.auth_apikeys.get_api_key(conn, id=key_id)
    if row is None:
        print(f"genvid: no API key {key_id}", file=sys.stderr)
    return row


def _server_fields(args: argparse.Namespace) -> dict[str, Any]:
    interval = args.refill_interval_seconds
    return {
        "remaining": args.remaining,
        "refill_amount": args.refill_amount,
        "refill_interval": interval * 1000 if interval is not None else None,
        "rate_limit_enabled": False if args.no_rate_limit else None,
        "rate_limit_max": args.rate_limit_max,
        "rate_limit_time_window": args.rate_limit_window_ms,
        "expires_in": args.expires_in_days * 86400 if args.expires_in_days is not None else None,
    }


def _count(raw: str, *, limit: int = INT_MAX) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if not 0 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must be between 0 and {limit}")
    return value


def _seconds(raw: str) -> int:
    return _count(raw, limit=INT_MAX // 1000)     # stored in ms, in an integer column


def _permissions(raw: str) -> dict[str, list[str]]:
    try:
        return parse_permission_list(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
