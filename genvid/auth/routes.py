"""better-auth compatible endpoints under /api/auth: sign-up/in/out, sessions, profile, password, bearer, JWT.

Every view runs better-call's order of checks (genvid.auth.blueprint): content type (415), body schema (400),
Origin/CSRF (403), then the session middleware (401/403), then the handler. The other /api/auth views live in
`email_routes`, `jwt_routes`, `social_routes` and `account_routes`, imported below so that registering this
module's `bp` registers them all.
"""
from __future__ import annotations

from html import escape
from typing import Any

from flask import Response, request
from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth import (  # noqa: F401  (the *_routes modules: their views register on bp)
    account_routes,
    apikey_routes,
    context,
    email_routes,
    jwt_routes,
    limits,
    responses,
    sessions,
    shapes,
    social_routes,
    users,
)
from genvid.auth.blueprint import bp, policy, prepare, require_session
from genvid.auth.get_session import NO_STORE
from genvid.auth.get_session import answer as get_session_answer
from genvid.auth.passwords import needs_rehash
from genvid.auth.serialize import session_json, user_json
from genvid.auth.validation import Field, Schema, is_valid_email, json_schema
from genvid.errors import BetterAuthError
from genvid.http.api import documented
from genvid.infra import database

__all__ = ["bp"]

SIGN_UP = Schema((Field("name", max_length=limits.MAX_NAME_LENGTH),
                  Field("email", email=True, max_length=limits.MAX_EMAIL_LENGTH),
                  Field("password", min_length=1),
                  Field("image", optional=True, max_length=limits.MAX_IMAGE_LENGTH),
                  Field("callbackURL", optional=True),
                  Field("rememberMe", "boolean", optional=True)), with_record=True, form=True)
SIGN_IN = Schema((Field("email"), Field("password"), Field("callbackURL", optional=True),
                  Field("rememberMe", "boolean", optional=True)), form=True)
CHANGE_PASSWORD = Schema((Field("newPassword"), Field("currentPassword"),
                          Field("revokeOtherSessions", "boolean", optional=True)))
REVOKE_SESSION = Schema((Field("token"),))
UPDATE_USER = Schema(with_record=True)
UPDATE_USER_BODY = {"type": "object",
                    "description": "Any object (better-auth's z.record); name and image are read.",
                    "properties": {
                        "name": {"description": f"A string of at most {limits.MAX_NAME_LENGTH} characters "
                                                "(other types are ignored)."},
                                   "image": {"description": f"A string of at most {limits.MAX_IMAGE_LENGTH} "
                                                            "characters, or null (other types are "
                                                            "ignored)."}}}
EMPTY = Schema(optional=True)
AUTH = ["auth"]


@bp.post("/sign-up/email")
@documented("Sign up with an email and password (and sign in)", body=json_schema(SIGN_UP),
            response=shapes.TOKEN_AND_USER, auth=False, better_auth=True, tags=AUTH, errors=(403, 422))
def sign_up() -> ResponseReturnValue:
    """Create a user with a password and sign them in."""
    body = prepare(SIGN_UP)
    users.check_length(body["password"])
    remember = body.get("rememberMe", True) is not False
    with database.connection() as conn:
        users.ensure_email_free(conn, email=body["email"])
    password_hash = policy().hash(body["password"])
    with database.transaction() as conn:
        user, session = users.create_account(
            conn, email=body["email"], name=body["name"], image=body.get("image"),
            password_hash=password_hash,
            remember=remember, ip_address=context.client_ip(), user_agent=context.user_agent(),
            now=clock.now())
    return responses.session_cookie_response({"token": session.token, "user": user_json(user)},
                                           token=session.token, remember=remember)


@bp.post("/sign-in/email")
@documented("Sign in with an email and password", body=json_schema(SIGN_IN), response=shapes.SIGNED_IN,
            auth=False, better_auth=True, tags=AUTH, errors=(401, 403))
def sign_in() -> ResponseReturnValue:
    """Check an email and password and start a session."""
    body = prepare(SIGN_IN)
    email, password = body["email"], body["password"]
    if not is_valid_email(email):
        raise BetterAuthError(400, "Invalid email", "INVALID_EMAIL")
    users.check_length(password, minimum=False)
    remember = body.get("rememberMe", True) is not False
    pol = policy()
    with database.connection() as conn:
        found = users.find_credentials(conn, email=email)
    stored = found[1] if found else None
    if not users.check_password(password, stored, policy=pol) or found is None or stored is None:
        raise users.invalid_credentials()
    user = found[0]
    new_hash = pol.hash(password) if _needs_rehash(stored, pol) else None
    with database.transaction() as conn:
        if new_hash is not None:
            users.set_password(conn, user_id=user.id, password_hash=new_hash, now=clock.now())
        session = sessions.start_session(conn, user_id=user.id, remember=remember,
                                         ip_address=context.client_ip(),
                                         user_agent=context.user_agent(), now=clock.now())
    callback = body.get("callbackURL")
    payload: dict[str, Any] = {"redirect": bool(callback), "token": session.token}
    if callback:
        payload["url"] = callback
    payload["user"] = user_json(user)
    response = responses.session_cookie_response(payload, token=session.token, remember=remember)
    if callback:
        response.headers["Location"] = callback
    return response


def _needs_rehash(stored: str, pol: users.PasswordPolicy) -> bool:
    return needs_rehash(stored, algorithm=pol.algorithm, bcrypt_rounds=pol.bcrypt_rounds)


@bp.get("/get-session")
@documented("The current session and user, or null", response=shapes.SESSION_OR_NULL, optional_auth=True,
            better_auth=True, tags=AUTH, parameters=(shapes.query("disableCookieCache"),
                                                     shapes.query("disableRefresh",
                                                                  description="`true`: do not "
                                                                              "extend a session older than a "
                                                                              "day")))
def get_session() -> ResponseReturnValue:
    """The current session and user, or null; refreshes a session older than a day. (Here only with an Origin
    or a body: genvid.auth.get_session answers the others before Flask, with the same answer().)"""
    reply = get_session_answer(request.environ, context.settings(), now=clock.now())
    return Response(reply.body, 200, reply.headers)


@bp.post("/get-session")
@documented("Refused: better-auth allows POST here only with deferSessionRefresh", status=405,
            response=shapes.ANY_OBJECT, auth=False, better_auth=True, tags=AUTH,
            responses={405: {"description": "Always", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/AuthError"}}}}})
def get_session_post() -> ResponseReturnValue:
    """better-auth refuses POST here unless deferSessionRefresh is on."""
    raise BetterAuthError(405, "POST method requires deferSessionRefresh to be enabled in session config",
                          "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", headers=dict(NO_STORE))


@bp.post("/sign-out")
@documented("End the current session (if any)", body=json_schema(EMPTY), body_optional=True,
            response=shapes.SUCCESS, optional_auth=True, better_auth=True, tags=AUTH)
def sign_out() -> ResponseReturnValue:
    """End the current session (if any) and clear the cookies."""
    prepare(EMPTY)
    state, token = context.presented_token()
    if state is context.Presented.TOKEN and token:
        with database.transaction() as conn:
            sessions.end_session(conn, token=token)
    return responses.json_response({"success": True}, set_cookies=context.settings().jar.clearing_headers())


@bp.get("/list-sessions")
@documented("The user's sessions (needs a session under a day old)", response=shapes.SESSIONS,
            better_auth=True, tags=AUTH, errors=(403,))
def list_sessions() -> ResponseReturnValue:
    """The user's unexpired sessions (a fresh session is required)."""
    active = require_session(fresh=True)
    with database.connection() as conn:
        rows = sessions.list_sessions(conn, user_id=active.user.id, now=clock.now())
    return responses.json_response([session_json(row) for row in rows])


@bp.post("/revoke-session")
@documented("End one of the user's sessions by its token", body=json_schema(REVOKE_SESSION),
            response=shapes.STATUS, better_auth=True, tags=AUTH)
def revoke_session() -> ResponseReturnValue:
    """Delete one of the user's sessions by token; an unknown or foreign token does nothing."""
    body = prepare(REVOKE_SESSION)
    active = require_session()
    with database.transaction() as conn:
        sessions.revoke_session(conn, user_id=active.user.id, token=body["token"])
    current = body["token"] == active.session.token
    return responses.json_response({"status": True},
                                 set_cookies=context.settings().jar.clearing_headers() if current else [])


@bp.post("/revoke-sessions")
@documented("End every session of the user", body=json_schema(EMPTY), body_optional=True,
            response=shapes.STATUS, better_auth=True, tags=AUTH)
def revoke_sessions() -> ResponseReturnValue:
    """Delete every session of the user, this one included."""
    prepare(EMPTY)
    active = require_session()
    with database.transaction() as conn:
        sessions.revoke_all(conn, user_id=active.user.id)
    return responses.json_response({"status": True}, set_cookies=context.settings().jar.clearing_headers())


@bp.post("/revoke-other-sessions")
@documented("End every other session of the user", body=json_schema(EMPTY), body_optional=True,
            response=shapes.STATUS, better_auth=True, tags=AUTH)
def revoke_other_sessions() -> ResponseReturnValue:
    """Delete every session of the user except this one."""
    prepare(EMPTY)
    active = require_session()
    with database.transaction() as conn:
        sessions.revoke_others(conn, user_id=active.user.id, keep_token=active.session.token)
    return responses.json_response({"status": True})


@bp.post("/update-user")
@documented("Change the user's name and/or image", body=UPDATE_USER_BODY, response=shapes.STATUS,
            better_auth=True, tags=AUTH)
def update_user() -> ResponseReturnValue:
    """Change name and/or image; email cannot be changed here."""
    body = prepare(UPDATE_USER)
    active = require_session()
    if body.get("email"):
        raise BetterAuthError(400, "Email can not be updated", "EMAIL_CAN_NOT_BE_UPDATED")
    name = body.get("name")
    if not isinstance(name, str):
        name = None
    set_image = "image" in body and (body["image"] is None or isinstance(body["image"], str))
    users.check_storable(name=name, image=body["image"] if set_image else None)
    if name is None and not set_image:
        raise BetterAuthError(400, "No fields to update")
    with database.transaction() as conn:
        users.update_profile(conn, user_id=active.user.id, name=name, set_image=set_image,
                             image=body.get("image") if set_image else None, now=clock.now())
    return responses.session_cookie_response({"status": True}, token=active.session.token,
                                           remember=context.remembers())


@bp.post("/change-password")
@documented("Change the password (optionally ending every other session)", body=json_schema(CHANGE_PASSWORD),
            response=shapes.TOKEN_AND_USER, better_auth=True, tags=AUTH)
def change_password() -> ResponseReturnValue:
    """Replace the password after checking the current one; optionally end every other session."""
    body = prepare(CHANGE_PASSWORD)
    active = require_session()
    users.check_length(body["newPassword"])
    users.check_length(body["currentPassword"], minimum=False)
    pol = policy()
    with database.connection() as conn:
        stored = users.stored_hash(conn, user_id=active.user.id)
    if stored is None:
        raise BetterAuthError(400, "Credential account not found", "CREDENTIAL_ACCOUNT_NOT_FOUND")
    new_hash = pol.hash(body["newPassword"])         # before verifying, as better-auth does (equal timing)
    if not users.check_password(body["currentPassword"], stored, policy=pol):
        raise users.invalid_password()
    now = clock.now()
    new_session = None
    with database.transaction() as conn:
        users.set_password(conn, user_id=active.user.id, password_hash=new_hash, now=now)
        if body.get("revokeOtherSessions") is True:
            sessions.revoke_all(conn, user_id=active.user.id)
            new_session = sessions.start_session(conn, user_id=active.user.id, remember=True,
                                                 ip_address=context.client_ip(),
                                                 user_agent=context.user_agent(), now=now)
    payload = {"token": new_session.token if new_session else None, "user": user_json(active.user)}
    if new_session is None:
        return responses.json_response(payload)
    return responses.session_cookie_response(payload, token=new_session.token, remember=True)


@bp.get("/ok")
@documented("Liveness of the auth routes", response=shapes.OK, auth=False, better_auth=True, tags=AUTH)
def ok() -> ResponseReturnValue:
    """Liveness of the auth routes."""
    return responses.json_response({"ok": True})


@bp.get("/error")
@documented("better-auth's error page", auth=False, better_auth=True, tags=AUTH, media_type="text/html",
            parameters=(shapes.query("error"),))
def error_page() -> ResponseReturnValue:
    """The HTML page better-auth shows for an error code."""
    code = escape(request.args.get("error", "UNKNOWN"))
    html = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Error</title></head>"
            f"<body><h1>Something went wrong</h1><p>Error code: <code>{code}</code></p></body></html>")
    return Response(html, status=200, content_type="text/html")
