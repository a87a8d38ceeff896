"""Single-use, expiring tokens in `verification` (email verification, email change, password reset) and mails.

A row's identifier is `<purpose>:<token>` (better-auth's own convention for reset-password); consuming
deletes the row, so a token works once. Tokens are 32 random characters (24 for password resets).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

import db.auth_users
import db.auth_verifications
from db import models
from genvid.auth.ids import generate_id

VERIFY_EMAIL = "verify-email"
CHANGE_EMAIL = "change-email"
RESET_PASSWORD = "reset-password"
TOKEN_LIFETIME = timedelta(hours=1)     # better-auth's default for both kinds
RESET_TOKEN_LENGTH = 24                 # better-auth's reset links carry generateId(24)


@dataclass(frozen=True)
class Mail:
    """A message to send once the transaction has committed."""

    to: str
    subject: str
    text: str


def create_token(conn: psycopg.Connection, *, purpose: str, value: str, now: datetime,
                 length: int = 32) -> str:
    """A new token for purpose carrying value."""
    token = generate_id(length)
    db.auth_verifications.create_verification(conn, id=generate_id(), identifier=f"{purpose}:{token}",
                                              value=value, expires_at=now + TOKEN_LIFETIME, now=now)
    return token


def peek_token(conn: psycopg.Connection, *, purpose: str, token: str, now: datetime) -> str | None:
    """The value of a live token without using it up."""
    if "\x00" in token:
        return None            # unknown by definition (PostgreSQL cannot compare it)
    row = db.auth_verifications.get_live_verification(conn, identifier=f"{purpose}:{token}", now=now)
    return row.value if row else None


def consume_token(conn: psycopg.Connection, *, purpose: str, token: str, now: datetime) -> str | None:
    """The value of a live token, deleting it so it cannot be used again; None if unknown or expired."""
    if "\x00" in token:
        return None
    row = db.auth_verifications.consume_verification(conn, identifier=f"{purpose}:{token}", now=now)
    return row.value if row else None


def verification_mail(conn: psycopg.Connection, *, email: str, base_url: str, callback: str | None,
                      now: datetime) -> Mail | None:
    """A verification link for an unverified user with this email; None otherwise (nothing is revealed)."""
    from urllib.parse import quote
    user = db.auth_users.get_user_by_email(conn, email=email.lower())
    if user is None or user.email_verified:
        return None
    token = create_token(conn, purpose=VERIFY_EMAIL, value=user.id, now=now)
    link = f"{base_url}/api/auth/verify-email?token={token}&callbackURL={quote(callback or '/', safe='')}"
    return Mail(to=user.email, subject="Verify your email address",
                text=f"Verify your email address: {link}\n")


def change_email_mail(conn: psycopg.Connection, *, user: models.User, new_email: str, base_url: str,
                      callback: str | None, now: datetime) -> Mail:
    """A link, sent to the new address, that moves the account there once followed."""
    from urllib.parse import quote
    value = json.dumps({"userId": user.id, "newEmail": new_email.lower()})
    token = create_token(conn, purpose=CHANGE_EMAIL, value=value, now=now)
    link = f"{base_url}/api/auth/verify-email?token={token}&callbackURL={quote(callback or '/', safe='')}"
    return Mail(to=new_email.lower(), subject="Confirm your new email address",
                text=f"Confirm your new email address: {link}\n")


def reset_mail(conn: psycopg.Connection, *, email: str, base_url: str, redirect_to: str | None,
               now: datetime) -> Mail | None:
    """A password reset link for the user with this email; None when there is none
    (the answer is the same)."""
    from urllib.parse import quote
    user = db.auth_users.get_user_by_email(conn, email=email.lower())
    if user is None:
        return None
    token = create_token(conn, purpose=RESET_PASSWORD, value=user.id, now=now, length=RESET_TOKEN_LENGTH)
    link = f"{base_url}/api/auth/reset-password/{token}?callbackURL={quote(redirect_to or '/', safe='')}"
    return Mail(to=user.email, subject="Reset your password", text=f"Reset your password: {link}\n")


def verify_email(conn: psycopg.Connection, *, token: str, now: datetime) -> models.User | None:
    """Use a verification or email-change token; the updated user, or None when the token is not valid."""
    user_id = consume_token(conn, purpose=VERIFY_EMAIL, token=token, now=now)
    if user_id is not None:
        return db.auth_users.mark_email_verified(conn, id=user_id, now=now)
    change = consume_token(conn, purpose=CHANGE_EMAIL, token=token, now=now)
    if change is None:
        return None
    data = json.loads(change)
    if db.auth_users.get_user_by_email(conn, email=data["newEmail"]) is not None:
        return None      # taken since the link was sent
    return db.auth_users.update_user_email(conn, id=data["userId"], email=data["newEmail"],
                                           email_verified=True, now=now)
