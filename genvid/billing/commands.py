"""`genvid credits grant EMAIL N --reason TEXT`: an operator's grant
(also how offline development gets credits)."""
from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

import db.auth_users
from genvid.billing import ledger
from genvid.config import Config
from genvid.infra import database, services

OPERATOR_REASON_PREFIX = "operator: "


def register(subparsers: Any) -> None:
    """Add the `credits` command group to the genvid CLI."""
    credits = subparsers.add_parser("credits", help="credit balances")
    actions = credits.add_subparsers(dest="credits_command", required=True)
    grant = actions.add_parser("grant", help="grant credits to a user (one ledger entry each time)")
    grant.add_argument("email", help="the user's email address")
    grant.add_argument("credits", type=_positive_int, help="how many credits to add")
    grant.add_argument("--reason", required=True, help="why, kept in the ledger (e.g. 'support refund #123')")
    grant.set_defaults(func=cmd_grant)


def cmd_grant(args: argparse.Namespace, config: Config) -> int:
    """Grant under a fresh unique reference, so running the command twice grants twice, as asked."""
    services.start(config)
    reason = OPERATOR_REASON_PREFIX + args.reason.strip()
    reference = f"cli-{uuid.uuid4().hex}"
    with database.transaction() as conn:
        user = db.auth_users.get_user_by_email(conn, email=args.email.strip().lower())
        if user is None:
            print(f"genvid: no user with email {args.email}", file=sys.stderr)
            return 1
        ledger.grant(conn, user_id=user.id, credits=args.credits, reason=reason, reference=reference)
        balance = ledger.balance(conn, user_id=user.id)
    print(f"granted {args.credits} credits to {user.email} ({reference}); balance {balance}")
    return 0


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
