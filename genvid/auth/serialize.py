"""JSON shapes of users and sessions, with better-auth's key order and JS `Date.toJSON()` timestamps."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from db import models


def js_date(moment: datetime) -> str:
    """`2026-11-23T11:26:48.942Z`: UTC, milliseconds, Z, as JavaScript's Date.toJSON() writes it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"     # drop "+00:00"


def user_json(user: models.User) -> dict[str, Any]:
    """A user as better-auth emits it."""
    return {
        "name": user.name,
        "email": user.email,
        "emailVerified": user.email_verified,
        "image": user.image,
        "createdAt": js_date(user.created_at),
        "updatedAt": js_date(user.updated_at),
        "id": user.id,
    }


def session_json(session: models.Session) -> dict[str, Any]:
    """A session as better-auth emits it (token included, as list-sessions shows it)."""
    return {
        "expiresAt": js_date(session.expires_at),
        "token": session.token,
        "createdAt": js_date(session.created_at),
        "updatedAt": js_date(session.updated_at),
        "ipAddress": session.ip_address,
        "userAgent": session.user_agent,
        "userId": session.user_id,
        "id": session.id,
    }
