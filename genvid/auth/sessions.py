"""Sessions as better-auth keeps them: 7-day lifetime, 1-day refresh, 1-day freshness,
expired rows deleted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

import db.auth_sessions
from db import models
from genvid.auth.ids import generate_id
from genvid.auth.jwts import StoredKey

EXPIRES_IN = timedelta(seconds=604800)        # better-auth session.expiresIn
SHORT_EXPIRES_IN = timedelta(seconds=86400)   # rememberMe: false
UPDATE_AGE = timedelta(seconds=86400)         # session.updateAge
FRESH_AGE = timedelta(seconds=86400)          # session.freshAge


@dataclass(frozen=True)
class ActiveSession:
    """A live session and its user."""

    session: models.Session
    user: models.User


def start_session(conn: psycopg.Connection, *, user_id: str, remember: bool, ip_address: str,
                  user_agent: str, now: datetime) -> models.Session:
    """A new session row with a fresh 32-character token."""
    lifetime = EXPIRES_IN if remember else SHORT_EXPIRES_IN
    session = db.auth_sessions.create_session(conn, id=generate_id(), expires_at=now + lifetime,
                                              token=generate_id(), now=now, ip_address=ip_address,
                                              user_agent=user_agent, user_id=user_id)
    if session is None:     # INSERT ... RETURNING always returns the row; this only narrows the type
        raise RuntimeError("session insert returned no row")
    return session


def find_session(conn: psycopg.Connection, *, token: str, now: datetime) -> ActiveSession | None:
    """The live session with this token (one indexed lookup); an expired one is deleted and None returned."""
    if "\x00" in token:
        return None            # no token holds NUL, and PostgreSQL cannot even compare one that does
    return _live(conn, db.auth_sessions.get_session_and_user(conn, token=token), token=token, now=now)


def find_session_and_signing_key(conn: psycopg.Connection, *, token: str,
                                 now: datetime) -> tuple[ActiveSession, StoredKey | None] | None:
    """find_session, plus the key a JWT for it is signed with (None while no key exists), in the same round
    trip: for get-session, which issues a JWT on every answer."""
    if "\x00" in token:
        return None
    row = db.auth_sessions.get_session_user_and_signing_key(conn, token=token, now=now)
    active = _live(conn, row, token=token, now=now)
    if active is None or row is None:
        return None
    key = None if row.jwk_id is None or row.jwk_private_key is None else StoredKey(row.jwk_id,
                                                                                   row.jwk_private_key)
    return active, key


def _live(conn: psycopg.Connection,
          row: db.auth_sessions.GetSessionAndUserRow | db.auth_sessions.GetSessionUserAndSigningKeyRow | None,
          *, token: str, now: datetime) -> ActiveSession | None:
    """The session and user of a looked-up row; an expired row is deleted
    (better-auth does) and gives None."""
    if row is None:
        return None
    if row.expires_at < now:
        db.auth_sessions.delete_session_by_token(conn, token=token)
        return None
    session = models.Session(id=row.id, expires_at=row.expires_at, token=row.token, created_at=row.created_at,
                             updated_at=row.updated_at, ip_address=row.ip_address, user_agent=row.user_agent,
                             user_id=row.user_id)
    user = models.User(id=row.user_id, name=row.user_name, email=row.user_email,
                       email_verified=row.user_email_verified, image=row.user_image,
                       created_at=row.user_created_at, updated_at=row.user_updated_at)
    return ActiveSession(session=session, user=user)


def is_due_for_refresh(session: models.Session, *, now: datetime) -> bool:
    """better-auth refreshes once the session was created or last refreshed at least updateAge ago."""
    return session.expires_at - EXPIRES_IN + UPDATE_AGE <= now


def refresh_session(conn: psycopg.Connection, *, session: models.Session, now: datetime) -> models.Session:
    """Push the expiry to now + 7 days."""
    refreshed = db.auth_sessions.refresh_session(conn, expires_at=now + EXPIRES_IN, now=now,
                                                 token=session.token)
    return refreshed or session


def is_fresh(session: models.Session, *, now: datetime) -> bool:
    """freshAge: a session created less than a day ago."""
    return now - session.created_at < FRESH_AGE


def list_sessions(conn: psycopg.Connection, *, user_id: str, now: datetime) -> list[models.Session]:
    """The user's unexpired sessions."""
    return db.auth_sessions.list_user_sessions(conn, user_id=user_id, now=now)


def revoke_session(conn: psycopg.Connection, *, user_id: str, token: str) -> bool:
    """Delete the user's session with this token; someone else's or an unknown token does nothing."""
    if "\x00" in token:
        return False           # unknown by definition (PostgreSQL cannot compare it)
    return db.auth_sessions.delete_user_session_by_token(conn, token=token, user_id=user_id) > 0


def revoke_all(conn: psycopg.Connection, *, user_id: str) -> int:
    """Delete every session of the user."""
    return db.auth_sessions.delete_user_sessions(conn, user_id=user_id)


def revoke_others(conn: psycopg.Connection, *, user_id: str, keep_token: str) -> int:
    """Delete every session of the user except the one with keep_token."""
    return db.auth_sessions.delete_other_user_sessions(conn, user_id=user_id, token=keep_token)


def end_session(conn: psycopg.Connection, *, token: str) -> None:
    """Sign-out: delete the session with this token, if any."""
    db.auth_sessions.delete_session_by_token(conn, token=token)
