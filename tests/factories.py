"""Factories that arrange data through the production code paths (generated queries, real hashing)."""
from __future__ import annotations

from datetime import timedelta

import psycopg

import db.auth_accounts
import db.auth_sessions
import db.auth_users
from db import models
from genvid.auth import passwords
from genvid.auth.ids import generate_id
from genvid.clock import system_now
from genvid.infra import services as genvid_services

DEFAULT_PASSWORD = "correct horse battery"


def create_user(conn: psycopg.Connection, *, email: str | None = None, password: str = DEFAULT_PASSWORD,
                name: str = "Test User") -> models.User:
    """A user with a credential account whose password is hashed as the running app's config says."""
    config = genvid_services.started_config()
    now = system_now()
    user_id = generate_id()
    user = db.auth_users.create_user(conn, id=user_id, name=name,
                                     email=(email or f"user-{user_id.lower()}@example.com").lower(),
                                     image=None, now=now)
    assert user is not None, f"email {email} is taken"
    hashed = passwords.hash_password(password, algorithm=config.password_hash,
                                     bcrypt_rounds=config.bcrypt_rounds)
    db.auth_accounts.create_credential_account(conn, id=generate_id(), user_id=user.id, password=hashed,
                                               now=now)
    return user


def create_session(conn: psycopg.Connection, *, user_id: str, expires_in: int = 604800) -> str:
    """A session for user_id expiring in expires_in seconds; returns its token."""
    now = system_now()
    token = generate_id()
    db.auth_sessions.create_session(conn, id=generate_id(), expires_at=now + timedelta(seconds=expires_in),
                                    token=token, now=now, ip_address="", user_agent="", user_id=user_id)
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that authenticates as the session with this token."""
    return {"Authorization": f"Bearer {token}"}
