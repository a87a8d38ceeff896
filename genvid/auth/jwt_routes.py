"""The jwt plugin's endpoints: GET /token (a JWT for the signed-in user) and GET /jwks (the public keys).

`register(bp, ...)` adds the views to the auth blueprint (which routes.py owns and passes in).
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask.typing import ResponseReturnValue

from genvid.auth import clock, context, jwts, responses, sessions, shapes
from genvid.http.api import documented
from genvid.infra import database


def register(bp: Blueprint, *, require_session: Callable[..., sessions.ActiveSession]) -> None:
    """Add /token and /jwks to bp."""

    @bp.get("/token")
    @documented("A 15-minute JWT for the signed-in user (EdDSA)", response=shapes.JWT, better_auth=True,
                tags=["auth"])
    def token() -> ResponseReturnValue:
        """A 15-minute JWT for the signed-in user."""
        active = require_session()
        auth = context.settings()
        with database.transaction() as conn:
            value = jwts.issue(conn, user=active.user, issuer=auth.config.better_auth_url,
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
