"""current_user(): who is making this /api/ request, from an API key (x-api-key), the session cookie, a bearer
session token or a JWT.

A JWT is accepted only here (not by /api/auth/get-session, as better-auth's bearer plugin does): EdDSA
only, a key from our `jwks` table, exp/iss/aud checked against our clock and BETTER_AUTH_URL. An API key is
judged alone (genvid.auth.apikey_auth: its permission for this endpoint, its quota and rate limit).

CSRF: a browser adds cookies to requests another site's page makes, so a state-changing request that
relies on cookies must come from a trusted origin, the check better-auth makes on its own routes (403
INVALID_ORIGIN / MISSING_OR_NULL_ORIGIN, in the /api/ envelope here). It is made here, where every handler
learns who calls, before it has done anything. A bearer token or JWT in Authorization, like an API key in
x-api-key, cannot be sent by another site's page without a CORS preflight, so those calls are exempt; webhooks
never ask who calls.
"""
from __future__ import annotations

from db import models
from genvid import clock
from genvid.auth import apikey_auth, context, jwts, origin
from genvid.auth.identity import CurrentUser
from genvid.errors import Forbidden, Unauthorized
from genvid.http.request_context import once_per_request, this_request
from genvid.infra import database
from genvid.infra.logs import user_id_var

_CURRENT_USER_KEY = "genvid.auth.current_user"


def _from_user(user: models.User) -> CurrentUser:
    return CurrentUser(id=user.id, email=user.email, name=user.name, email_verified=user.email_verified)


def _from_jwt(token: str) -> CurrentUser | None:
    auth = context.settings()
    try:
        with database.connection() as conn:
            claims = jwts.verify(conn, token=token, issuer=auth.issuer, now=clock.now())
    except jwts.InvalidToken:
        return None
    sub, email, name = claims.get("sub"), claims.get("email"), claims.get("name")
    if not isinstance(sub, str) or not isinstance(email, str) or not isinstance(name, str):
        return None
    return CurrentUser(id=sub, email=email, name=name, email_verified=claims.get("emailVerified") is True)


def optional_user() -> CurrentUser | None:
    """The signed-in user, or None when the request carries no valid credential
    (worked out once per request)."""
    return once_per_request(_CURRENT_USER_KEY, _identify)


def _identify() -> CurrentUser | None:
    key = apikey_auth.presented_key(this_request().environ)
    if key is not None:
        owner, key_id = apikey_auth.owner_of(key)      # raises when the key may not make this call
        user_id_var.set(owner.id)
        return CurrentUser(id=owner.id, email=owner.email, name=owner.name,
                           email_verified=owner.email_verified, api_key_id=key_id)
    bearer = context.bearer_value()
    if bearer is None:
        _refuse_cross_site_cookie_request()
    if bearer is not None and jwts.looks_like_jwt(bearer):
        user = _from_jwt(bearer)
    else:
        active = context.active_session()
        user = _from_user(active.user) if active else None
    if user is not None:
        user_id_var.set(user.id)
    return user


def _refuse_cross_site_cookie_request() -> None:
    current = this_request()
    refusal = origin.cookie_request_refusal(method=current.method, headers=current.headers,
                                            trusted=context.settings().trusted)
    if refusal is not None:
        raise Forbidden(refusal.code, refusal.message)


def current_user() -> CurrentUser:
    """The caller (API key, session cookie, bearer session token, or JWT), or 401 UNAUTHORIZED."""
    user = optional_user()
    if user is None:
        raise Unauthorized()
    return user
