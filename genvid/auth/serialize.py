"""JSON shapes of users and sessions, with better-auth's key order and JS `Date.toJSON()` timestamps."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from db import models
from genvid.auth.session_memo import Memo


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


class EncodedJSON(str):
    """A body that is JSON text already (genvid.auth.responses.json_response sends it as it is)."""


_get_session_bodies: Memo[EncodedJSON] = Memo()


def user_fields(user: models.User) -> tuple[object, ...]:
    """Everything user_json shows of a user: what a memo of anything built from user_json is keyed by."""
    return user.id, user.name, user.email, user.email_verified, user.image, user.created_at, user.updated_at


def get_session_body(session: models.Session, user: models.User) -> EncodedJSON:
    """get-session's `{"session", "user"}` body, encoded. A pure function of the two rows, remembered: a client
    polling get-session gets the same bytes until a row changes, without re-formatting seven dates."""
    key = (session.id, session.token, session.expires_at, session.created_at, session.updated_at,
           session.ip_address, session.user_agent, session.user_id, *user_fields(user))
    return _get_session_bodies.value_for(key, lambda: EncodedJSON(json.dumps(
        {"session": session_json(session), "user": user_json(user)}, ensure_ascii=False, separators=(",", ":"))))
