"""The OAuth state carried across the provider redirect, kept exactly as better-auth keeps it, so a flow begun
on either server finishes on the other (shared database and secret).

* a `verification` row: identifier `auth-state:<state>`, value the JSON of better-auth's state data
  (`{...additionalData, callbackURL, codeVerifier, errorURL?, newUserURL?, link?, expiresAt, requestSignUp?,
  idTokenNonce?, oauthState}`), expiring after 10 minutes;
* the signed cookie `better-auth.state` holding the state (Max-Age 300): the browser that began is the one
  that finishes;
* `state` is 32 and the PKCE code verifier 128 characters of `[a-zA-Z0-9_-]`.

Parsing checks them in better-auth's order (row, its oauthState, the cookie, then expiry) and consumes the row
with one DELETE, so a state works once even when two callbacks race.
"""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

import db.auth_verifications
from genvid.auth.ids import generate_id

STATE_COOKIE = "better-auth.state"
STATE_COOKIE_MAX_AGE = 300
STATE_LIFETIME = timedelta(minutes=10)
_ALPHABET = string.ascii_lowercase + string.digits + string.ascii_uppercase + "-_"


def random_string(length: int) -> str:
    """better-auth's generateRandomString over a-z, 0-9, A-Z, '-', '_'."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def identifier(state: str) -> str:
    return f"auth-state:{state}"


class StateError(Exception):
    """A callback whose state does not hold: `code` goes on the error redirect, to error_url when known."""

    def __init__(self, code: str, *, error_url: str | None = None, cookie_cleared: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.error_url = error_url
        self.cookie_cleared = cookie_cleared


@dataclass(frozen=True)
class Link:
    """A link-social flow: the user it links to, and (sealed) the session that began it."""

    user_id: str
    email: str
    encrypted_session_token: str | None = None


@dataclass(frozen=True)
class FlowState:
    """What a callback needs from the state."""

    callback_url: str
    code_verifier: str
    error_url: str | None
    new_user_url: str | None
    link: Link | None
    request_sign_up: bool | None
    id_token_nonce: str | None
    expires_at_ms: int


def create(conn: psycopg.Connection, *, callback_url: str, error_url: str | None, new_user_url: str | None,
           link: Link | None, additional_data: dict[str, Any] | None, request_sign_up: bool | None,
           id_token_nonce: str | None, now: datetime) -> tuple[str, str]:
    """A new state and code verifier, stored; the caller sets the state cookie."""
    state, code_verifier = random_string(32), random_string(128)
    expires = now + STATE_LIFETIME
    data: dict[str, Any] = dict(additional_data or {})
    # Assigned in better-auth's order; a key additionalData already had keeps its place, as in a JS spread.
    data.update({"callbackURL": callback_url, "codeVerifier": code_verifier, "errorURL": error_url,
                 "newUserURL": new_user_url,
                 "link": None if link is None else _link_json(link),
                 "expiresAt": int(expires.timestamp() * 1000), "requestSignUp": request_sign_up,
                 "idTokenNonce": id_token_nonce, "oauthState": state})
    value = json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"),
                       ensure_ascii=False)
    db.auth_verifications.create_verification(conn, id=generate_id(), identifier=identifier(state),
                                              value=value, expires_at=expires, now=now)
    return state, code_verifier


def _link_json(link: Link) -> dict[str, str]:
    out = {"userId": link.user_id, "email": link.email}
    if link.encrypted_session_token is not None:
        out["encryptedSessionToken"] = link.encrypted_session_token
    return out


def consume(conn: psycopg.Connection, *, state: str, cookie_state: str | None, now: datetime) -> FlowState:
    """The flow behind state, used up; StateError as better-auth's parseGenericState raises it."""
    if "\x00" in state:
        raise StateError("state_mismatch")      # no state holds U+0000 (PostgreSQL cannot even compare one)
    row = db.auth_verifications.get_latest_verification(conn, identifier=identifier(state))
    if row is None:
        raise StateError("state_mismatch")
    try:
        flow = _parse(json.loads(row.value))
    except (ValueError, TypeError, KeyError):
        raise StateError("internal_server_error") from None
    data = json.loads(row.value)
    if data.get("oauthState") is not None and data["oauthState"] != state:
        raise StateError("state_mismatch", error_url=flow.error_url)
    if cookie_state is None or cookie_state != state:
        raise StateError("state_mismatch", error_url=flow.error_url)
    if db.auth_verifications.delete_verifications_by_identifier(conn, identifier=identifier(state)) == 0:
        # A racing callback won.
        raise StateError("state_mismatch", error_url=flow.error_url, cookie_cleared=True)
    if flow.expires_at_ms < now.timestamp() * 1000:
        raise StateError("state_mismatch", error_url=flow.error_url, cookie_cleared=True)
    return flow


def _parse(data: Any) -> FlowState:
    """better-auth's stateDataSchema: callbackURL, codeVerifier and expiresAt required, the rest optional."""
    if not isinstance(data, dict):
        raise TypeError("state is not an object")
    callback, verifier, expires = data["callbackURL"], data["codeVerifier"], data["expiresAt"]
    if not isinstance(callback, str) or not isinstance(verifier, str) or not isinstance(expires, int | float):
        raise TypeError("state fields have the wrong types")
    raw_link = data.get("link")
    link = None
    if isinstance(raw_link, dict) and isinstance(raw_link.get("email"), str) and raw_link.get(
        "userId") is not None:
        token = raw_link.get("encryptedSessionToken")
        link = Link(user_id=str(raw_link["userId"]), email=raw_link["email"],
                    encrypted_session_token=token if isinstance(token, str) else None)
    return FlowState(callback_url=callback, code_verifier=verifier, error_url=_opt(data.get("errorURL")),
                     new_user_url=_opt(data.get("newUserURL")), link=link,
                     request_sign_up=data.get("requestSignUp") if isinstance(data.get("requestSignUp"), bool)
                     else None, id_token_nonce=_opt(data.get("idTokenNonce")), expires_at_ms=int(expires))


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) else None
