"""better-auth's linked-account endpoints: GET /list-accounts, POST /unlink-account, POST /get-access-token
(refreshing a token within 5 s of expiry), POST /refresh-token, GET /account-info. They register on
genvid.auth.blueprint.bp.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from db import models
from genvid import clock
from genvid.auth import context, responses, sessions, shapes
from genvid.auth.blueprint import bp, prepare, require_session
from genvid.auth.oauth import accounts, client, profiles
from genvid.auth.oauth.client import Tokens
from genvid.auth.oauth.http import ProviderError
from genvid.auth.oauth.profiles import Profile
from genvid.auth.oauth.providers import Provider
from genvid.auth.oauth_web import oauth_settings
from genvid.auth.serialize import js_date
from genvid.auth.validation import Field, Schema, json_schema, validation_error
from genvid.errors import BetterAuthError
from genvid.http.api import documented
from genvid.infra import database

UNLINK = Schema((Field("accountId"),))
ANY_OBJECT = Schema()
_SELECTION_KEYS = ("accountId", "userId", "useAccountCookie")
REFRESH_MARGIN = timedelta(seconds=5)
AUTH = ["auth"]


def _scopes(scope: str | None) -> list[str]:
    return [s.strip() for s in (scope or "").split(",") if s.strip()]


def _account_json(account: models.Account) -> dict[str, Any]:
    return {"accountId": account.account_id, "providerId": account.provider_id, "userId": account.user_id,
            "createdAt": js_date(account.created_at), "updatedAt": js_date(account.updated_at),
            "id": account.id, "scopes": _scopes(account.scope)}


def _selection(values: Mapping[str, Any], where: str) -> str | None:
    """The accountId of better-auth's accountSelectionSchema (a union of two strict objects); None for the
    account-cookie form, which genvid (like better-auth without storeAccountCookie) cannot resolve."""
    unknown = [key for key in values if key not in _SELECTION_KEYS]
    if unknown:
        quoted = ", ".join(f'"{key}"' for key in unknown)
        raise validation_error([f"[{where}] Unrecognized key{'s' if len(unknown) > 1 else ''}: {quoted}"])
    account_id, user_id = values.get("accountId"), values.get("userId")
    if (isinstance(account_id, str) and "useAccountCookie" not in values
        and (user_id is None or isinstance(user_id, str))):
        return account_id
    if values.get("useAccountCookie") in (True, "true") and "accountId" not in values:
        return None
    raise validation_error([f"[{where}] Invalid input"])


def _unauthorized_without_body() -> BetterAuthError:
    """better-auth's ctx.error("UNAUTHORIZED"): 401 with an empty body."""
    return BetterAuthError(401, "Unauthorized", empty=True)


def account_not_found() -> BetterAuthError:
    return BetterAuthError(400, "Account not found", "ACCOUNT_NOT_FOUND")


def _resolve(user_id: str, account_id: str | None) -> models.Account:
    if account_id is None:
        raise account_not_found()
    with database.connection() as conn:
        account = accounts.find_account(conn, user_id=user_id, account_row_id=account_id)
    if account is None:
        raise account_not_found()
    return account


def _supported_provider(account: models.Account) -> Provider:
    provider = oauth_settings().providers.get(account.provider_id)
    if provider is None:
        raise BetterAuthError(400, f"Provider {account.provider_id} is not supported.",
                              "PROVIDER_NOT_SUPPORTED")
    return provider


def valid_access_token(account: models.Account, provider: Provider) -> tuple[Tokens | None, dict[str, Any]]:
    """better-auth's getValidAccessToken: refresh when the token is within 5 s of expiry, then its answer."""
    oauth = oauth_settings()
    now = clock.now()
    fresh: Tokens | None = None
    try:
        expires_at = account.access_token_expires_at
        expired = expires_at is not None and expires_at - now < REFRESH_MARGIN
        if account.refresh_token and expired:
            fresh = client.refresh(provider, refresh_token=oauth.sealing.open(account.refresh_token) or "",
                                   now=now, timeout=oauth.providers.timeout)
            with database.transaction() as conn:
                accounts.store_refreshed(conn, account=account, tokens=fresh, sealing=oauth.sealing,
                                         now=clock.now())
        expires_at = (fresh.access_token_expires_at if fresh and fresh.access_token_expires_at
                      else account.access_token_expires_at)
        body: dict[str, Any] = {"accessToken": (fresh.access_token if fresh else None)
                                or oauth.sealing.open(account.access_token or "") or ""}
        if expires_at is not None:
            body["accessTokenExpiresAt"] = js_date(expires_at)
        body["scopes"] = _scopes(account.scope)
        id_token = (fresh.id_token if fresh else None) or account.id_token
        if id_token is not None:
            body["idToken"] = id_token
    except (ProviderError, ValueError):
        raise BetterAuthError(400, "Failed to get a valid access token",
                              "FAILED_TO_GET_ACCESS_TOKEN") from None
    return fresh, body


def _user_json(provider: Provider, profile: Profile) -> dict[str, Any]:
    """The `user` of account-info, in the key order of each better-auth provider
    (undefined values left out)."""
    if provider.kind == "generic":
        pairs = [("email", profile.email), ("emailVerified", profile.email_verified),
                 ("image", profile.image), ("name", profile.name or None)]
    else:
        pairs = [("name", profile.name or None), ("email", profile.email), ("image", profile.image),
                 ("emailVerified", profile.email_verified)]
    return {key: value for key, value in pairs if value is not None}


def session_or_bare_401() -> sessions.ActiveSession:
    active = context.active_session()
    if active is None:
        raise _unauthorized_without_body()
    return active


@bp.get("/list-accounts")
@documented("The user's accounts with their scopes", response=shapes.ACCOUNTS, better_auth=True, tags=AUTH)
def list_accounts() -> ResponseReturnValue:
    """The user's accounts (credential included) with their scopes."""
    active = require_session()
    with database.connection() as conn:
        rows = accounts.list_accounts(conn, user_id=active.user.id)
    return responses.json_response([_account_json(row) for row in rows])


@bp.post("/unlink-account")
@documented("Remove a linked account (never the last one; needs a session under a day old)",
            body=json_schema(UNLINK), response=shapes.STATUS, better_auth=True, tags=AUTH, errors=(403,))
def unlink_account() -> ResponseReturnValue:
    """Remove a linked account, never the last way to sign in (a fresh session is required)."""
    body = prepare(UNLINK)
    active = require_session(fresh=True)
    with database.transaction() as conn:
        refused = accounts.unlink(conn, user_id=active.user.id, account_row_id=body["accountId"])
    if refused == "FAILED_TO_UNLINK_LAST_ACCOUNT":
        raise BetterAuthError(400, "You can't unlink your last account", refused)
    if refused is not None:
        raise account_not_found()
    return responses.json_response({"status": True})


@bp.post("/get-access-token")
@documented("A valid access token of a linked account (refreshed when about to expire)",
            body=json_schema(ANY_OBJECT), body_optional=True, response=shapes.ANY_OBJECT, better_auth=True,
            tags=AUTH, responses={401: shapes.EMPTY_401})
def get_access_token() -> ResponseReturnValue:
    """A valid access token for one of the user's accounts, refreshed first when it is about to expire."""
    body = prepare(ANY_OBJECT)
    account_id = _selection(body, "body")
    active = session_or_bare_401()
    account = _resolve(active.user.id, account_id)
    _, answer = valid_access_token(account, _supported_provider(account))
    return responses.json_response(answer)


@bp.post("/refresh-token")
@documented("Refresh a linked account's access token now", body=json_schema(ANY_OBJECT), body_optional=True,
            response=shapes.ANY_OBJECT, better_auth=True, tags=AUTH, responses={401: shapes.EMPTY_401})
def refresh_token() -> ResponseReturnValue:
    """Refresh an account's access token now."""
    body = prepare(ANY_OBJECT)
    account_id = _selection(body, "body")
    active = session_or_bare_401()
    account = _resolve(active.user.id, account_id)
    provider = _supported_provider(account)
    if not account.refresh_token:
        raise BetterAuthError(400, "Refresh token not found", "REFRESH_TOKEN_NOT_FOUND")
    oauth = oauth_settings()
    try:
        stored_refresh = oauth.sealing.open(account.refresh_token) or ""
        tokens = client.refresh(provider, refresh_token=stored_refresh, now=clock.now(),
                                timeout=oauth.providers.timeout)
    except (ProviderError, ValueError):
        raise BetterAuthError(400, "Failed to refresh access token",
                              "FAILED_TO_REFRESH_ACCESS_TOKEN") from None
    with database.transaction() as conn:
        accounts.store_refreshed(conn, account=account, tokens=tokens, sealing=oauth.sealing, now=clock.now())
    refresh_expires = tokens.refresh_token_expires_at or account.refresh_token_expires_at
    answer: dict[str, Any] = {"accessToken": tokens.access_token,
                              "refreshToken": tokens.refresh_token or stored_refresh}
    if tokens.access_token_expires_at is not None:
        answer["accessTokenExpiresAt"] = js_date(tokens.access_token_expires_at)
    answer["refreshTokenExpiresAt"] = js_date(refresh_expires) if refresh_expires else None
    answer.update({"scope": account.scope, "idToken": tokens.id_token or account.id_token,
                   "providerId": account.provider_id, "accountId": account.id})
    return responses.json_response(answer)


@bp.get("/account-info")
@documented("What the provider says about a linked account", response=shapes.ANY_OBJECT, better_auth=True,
            tags=AUTH, responses={401: shapes.EMPTY_401},
            parameters=(shapes.query("accountId"), shapes.query("userId"), shapes.query("useAccountCookie")))
def account_info() -> ResponseReturnValue:
    """What the provider says about a linked account, from its (valid) access token."""
    if not request.args:
        raise validation_error(["[query] Invalid input"])
    account_id = _selection(request.args, "query")
    active = session_or_bare_401()
    account = _resolve(active.user.id, account_id)
    provider = oauth_settings().providers.get(account.provider_id)
    if provider is None:
        raise BetterAuthError(400, "Account is not associated with a configured social provider.",
                              "PROVIDER_NOT_CONFIGURED")
    _, tokens = valid_access_token(account, provider)
    if not tokens["accessToken"]:
        raise BetterAuthError(400, "Access token not found", "ACCESS_TOKEN_NOT_FOUND")
    oauth = oauth_settings()
    profile = profiles.account_info(provider, access_token=tokens["accessToken"],
                                  id_token=tokens.get("idToken"),
                                  now=clock.now(), timeout=oauth.providers.timeout)
    if profile is None:
        raise BetterAuthError(401, "Failed to get user info", "FAILED_TO_GET_USER_INFO")
    return responses.json_response({"user": _user_json(provider, profile), "data": profile.data,
                                    "account": {"id": account.id, "providerId": account.provider_id,
                                                "accountId": account.account_id}})
