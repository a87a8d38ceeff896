"""Email-and-password accounts: sign-up, sign-in, password changes, profile updates, deletion.

Hashing is CPU work and never runs inside a transaction: callers check, hash, then write.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

import db.auth_accounts
import db.auth_users
from db import models
from genvid.auth import passwords, sessions
from genvid.auth.ids import generate_id
from genvid.auth.limits import (
    MAX_IMAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    utf16_length,
)
from genvid.errors import BetterAuthError


@dataclass(frozen=True)
class PasswordPolicy:
    """How new hashes are written."""

    algorithm: str
    bcrypt_rounds: int

    def hash(self, password: str) -> str:
        """A new hash in the configured format."""
        return passwords.hash_password(password, algorithm=self.algorithm, bcrypt_rounds=self.bcrypt_rounds)


def user_exists() -> BetterAuthError:
    """422 for an email that is taken (in any letter case)."""
    return BetterAuthError(422, "User already exists. Use another email.",
                           "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")


def invalid_credentials() -> BetterAuthError:
    """The one answer for an unknown email and a wrong password."""
    return BetterAuthError(401, "Invalid email or password", "INVALID_EMAIL_OR_PASSWORD")


def invalid_password() -> BetterAuthError:
    """400 for a wrong current password."""
    return BetterAuthError(400, "Invalid password", "INVALID_PASSWORD")


def check_length(password: str, *, minimum: bool = True) -> None:
    """better-auth's length rules, counted in UTF-16 code units."""
    length = utf16_length(password)
    if minimum and length < MIN_PASSWORD_LENGTH:
        raise BetterAuthError(400, "Password too short", "PASSWORD_TOO_SHORT")
    if length > MAX_PASSWORD_LENGTH:
        raise BetterAuthError(400, "Password too long", "PASSWORD_TOO_LONG")


def check_storable(*, name: str | None, image: str | None) -> None:
    """400 VALIDATION_ERROR, in zod's words, for a new name or image genvid will not store: over its length
    limit, or holding U+0000, which PostgreSQL cannot store (better-auth answers 500 there)."""
    messages = []
    for key, value, limit in (("name", name, MAX_NAME_LENGTH), ("image", image, MAX_IMAGE_LENGTH)):
        if value is None:
            continue
        if utf16_length(value) > limit:
            messages.append(f"[body.{key}] Too big: expected string to have <={limit} characters")
        elif "\x00" in value:
            messages.append(f"[body.{key}] Invalid string: must not contain U+0000")
    if messages:
        raise BetterAuthError(400, "; ".join(messages), "VALIDATION_ERROR")


def email_is_free(conn: psycopg.Connection, *, email: str) -> bool:
    """True when no user has this (lower-cased) email."""
    return db.auth_users.get_user_by_email(conn, email=email.lower()) is None


def ensure_email_free(conn: psycopg.Connection, *, email: str) -> None:
    """422 when a user already has this (lower-cased) email."""
    if db.auth_users.get_user_by_email(conn, email=email.lower()) is not None:
        raise user_exists()


def failed_to_create() -> BetterAuthError:
    """better-auth's answer when the database refuses the new user (e.g. a name holding U+0000)."""
    return BetterAuthError(422, "Failed to create user", "FAILED_TO_CREATE_USER")


def create_account(conn: psycopg.Connection, *, email: str, name: str, image: str | None, password_hash: str,
                   remember: bool, ip_address: str, user_agent: str, now: datetime
                   ) -> tuple[models.User, models.Session]:
    """The user, its credential account and its first session; 422 if the email was taken meanwhile, or if a
    value cannot be stored (U+0000), as better-auth answers when its insert fails."""
    if "\x00" in name or (image is not None and "\x00" in image):
        raise failed_to_create()
    user = db.auth_users.create_user(conn, id=generate_id(), name=name, email=email.lower(), image=image,
                                     now=now)
    if user is None:        # a concurrent sign-up won the unique constraint
        raise user_exists()
    db.auth_accounts.create_credential_account(conn, id=generate_id(), user_id=user.id,
                                               password=password_hash, now=now)
    session = sessions.start_session(conn, user_id=user.id, remember=remember, ip_address=ip_address,
                                     user_agent=user_agent, now=now)
    return user, session


def find_credentials(conn: psycopg.Connection, *, email: str) -> tuple[models.User, str | None] | None:
    """The user with this email and its stored password hash (None when there is no credential account)."""
    user = db.auth_users.get_user_by_email(conn, email=email.lower())
    if user is None:
        return None
    account = db.auth_accounts.get_credential_account(conn, user_id=user.id)
    return user, (account.password if account else None)


def stored_hash(conn: psycopg.Connection, *, user_id: str) -> str | None:
    """The user's credential password hash, if any."""
    account = db.auth_accounts.get_credential_account(conn, user_id=user_id)
    return account.password if account else None


def check_password(password: str, stored: str | None, *, policy: PasswordPolicy) -> bool:
    """Verify password; with no stored hash, burn the same work so timing reveals nothing."""
    if stored is None:
        passwords.burn_equivalent_work(password, algorithm=policy.algorithm,
                                       bcrypt_rounds=policy.bcrypt_rounds)
        return False
    return passwords.verify_password(password, stored)


def set_password(conn: psycopg.Connection, *, user_id: str, password_hash: str, now: datetime) -> None:
    """Store a new hash, creating the credential account when the user had none."""
    if db.auth_accounts.set_credential_password(conn, user_id=user_id, password=password_hash, now=now) == 0:
        db.auth_accounts.create_credential_account(conn, id=generate_id(), user_id=user_id,
                                                   password=password_hash, now=now)


def update_profile(conn: psycopg.Connection, *, user_id: str, name: str | None, set_image: bool,
                   image: str | None, now: datetime) -> models.User | None:
    """Change name and/or image."""
    return db.auth_users.update_user_profile(conn, id=user_id, name=name, set_image=set_image, image=image,
                                             now=now)


def delete_user(conn: psycopg.Connection, *, user_id: str) -> None:
    """Delete the user; sessions and accounts go with it (ON DELETE CASCADE)."""
    db.auth_users.delete_user(conn, id=user_id)
