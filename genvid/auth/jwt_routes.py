"""The jwt plugin's endpoints: GET /token (a JWT for the signed-in user) and GET /jwks (the public keys).

The views register on the auth blueprint (genvid.auth.blueprint), guarded as every /api/auth view is.
"""
from __future__ import annotations

from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth import context, jwts, responses, shapes
from genvid.auth.blueprint import bp, require_session
from genvid.http.api import documented
from genvid.infra import database


@bp.get("/token")
@documented("A 15-minute JWT for the signed-in user (EdDSA)", response=shapes.JWT, better_auth=True,
            tags=["auth"])
def token() -> ResponseReturnValue:
    """A 15-minute JWT for the signed-in user."""
    active = require_session()
    auth = context.settings()
    with database.transaction() as conn:
        value = jwts.issue(conn, user=active.user, issuer=auth.issuer,
                           sealing=auth.key_sealing, now=clock.now())
    return responses.json_response({"token": value})


@bp.get("/jwks")
@documented("The public keys that verify the JWTs", response=shapes.JWKS, auth=False, better_auth=True,
            tags=["auth"])
def jwks() -> ResponseReturnValue:
    """The public keys that verify genvid's (and better-auth's) JWTs."""
    auth = context.settings()
    with database.transaction() as conn:
        keys = jwts.jwks(conn, sealing=auth.key_sealing, now=clock.now())
    return responses.json_response(keys)
