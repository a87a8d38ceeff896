"""better-auth's social sign-in endpoints: POST /sign-in/social (an authorization URL, or the idToken form),
GET|POST /callback/:id, POST /link-social. They register on genvid.auth.blueprint.bp.

Provider calls (token exchange, profile, JWKS) run with no database connection held; every provider failure
ends as better-auth's error redirect (`?error=<code>`) or error body, never a 500.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request
from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth import context, oauth_callback, responses, sessions, shapes
from genvid.auth.blueprint import bp, prepare, require_session
from genvid.auth.oauth import accounts, client, id_tokens, profiles, state
from genvid.auth.oauth.profiles import Profile
from genvid.auth.oauth.providers import Provider
from genvid.auth.oauth_web import api_base, oauth_settings, redirect_uri
from genvid.auth.serialize import user_json
from genvid.auth.validation import Field, Schema, json_schema
from genvid.errors import BetterAuthError
from genvid.http.api import documented
from genvid.http.app_config import app_config
from genvid.infra import database

RESERVED_PARAMS = ("state", "client_id", "redirect_uri", "response_type", "code_challenge",
                   "code_challenge_method", "nonce", "scope")
# additionalParams may not override what the authorization request sets itself (a zod refine in better-auth).
_ADDITIONAL_PARAMS = Field("additionalParams", "record<string>", optional=True, refused_keys=RESERVED_PARAMS,
                           refusal="additionalParams cannot include reserved OAuth parameters: "
                                   + ", ".join(RESERVED_PARAMS))
_ID_TOKEN = Field("idToken", "object", optional=True, fields=(
    Field("token"), Field("nonce", optional=True), Field("accessToken", optional=True),
    Field("refreshToken", optional=True), Field("expiresAt", "number", optional=True),
    Field("user", "record", optional=True)))
SOCIAL_SIGN_IN = Schema((
    Field("callbackURL", optional=True), Field("newUserCallbackURL", optional=True),
    Field("errorCallbackURL", optional=True), Field("provider", "union"),
    Field("disableRedirect", "boolean", optional=True), _ID_TOKEN, Field("scopes", "string[]", optional=True),
    Field("requestSignUp", "boolean", optional=True), Field("loginHint", optional=True),
    _ADDITIONAL_PARAMS, Field("additionalData", "record", optional=True)))
LINK_SOCIAL = Schema((
    Field("callbackURL", optional=True), Field("provider", "union"),
    Field("idToken", "object", optional=True, fields=(
        Field("token"), Field("nonce", optional=True), Field("accessToken", optional=True),
        Field("refreshToken", optional=True))),
    Field("requestSignUp", "boolean", optional=True), Field("scopes", "string[]", optional=True),
    Field("errorCallbackURL", optional=True), Field("disableRedirect", "boolean", optional=True),
    Field("loginHint", optional=True), _ADDITIONAL_PARAMS,
    Field("additionalData", "record", optional=True)))
CALLBACK_KEYS = ("code", "error", "device_id", "error_description", "state", "user", "iss")
CALLBACK = Schema(tuple(Field(key, optional=True) for key in CALLBACK_KEYS), optional=True, form=True)


def provider_not_found() -> BetterAuthError:
    return BetterAuthError(404, "Provider not found", "PROVIDER_NOT_FOUND")


def start_flow(provider: Provider, body: dict[str, Any], *, link: state.Link | None) -> Response:
    """State, cookie and the provider's authorization URL: `{url, redirect}`
    (+ Location unless disableRedirect)."""
    config = app_config()
    nonce = state.random_string(32) if provider.requires_nonce else None
    with database.transaction() as conn:
        flow_state, verifier = state.create(
            conn, callback_url=body.get("callbackURL") or config.better_auth_url,
            error_url=body.get("errorCallbackURL"), new_user_url=body.get("newUserCallbackURL"), link=link,
            additional_data=body.get("additionalData"), request_sign_up=body.get("requestSignUp"),
            id_token_nonce=nonce, now=clock.now())
    url = client.authorization_url(provider, state=flow_state, code_verifier=verifier,
                                   redirect_uri=redirect_uri(provider), scopes=body.get("scopes"),
                                   login_hint=body.get("loginHint"), nonce=nonce,
                                   additional_params=body.get("additionalParams"))
    redirect = body.get("disableRedirect") is not True
    jar = context.settings().jar
    response = responses.json_response({"url": url, "redirect": redirect},
                                       set_cookies=[jar.signed_header(state.STATE_COOKIE, flow_state,
                                                                      max_age=state.STATE_COOKIE_MAX_AGE)])
    if redirect:
        response.headers["Location"] = url
    return response


def id_token_profile(provider: Provider, id_token: dict[str, Any]) -> Profile:
    """The person an idToken body names, or better-auth's 404/401 for a provider or token that does not do."""
    if provider.id_token is None:
        raise BetterAuthError(404, "id_token not supported", "ID_TOKEN_NOT_SUPPORTED")
    timeout = oauth_settings().providers.timeout
    claims = id_tokens.verify_id_token(provider, id_token["token"], nonce=id_token.get("nonce"),
                                       now=clock.now(), timeout=timeout)
    if claims is None:
        raise BetterAuthError(401, "Invalid token", "INVALID_TOKEN")
    profile = profiles.profile_from_id_token(provider, claims)
    if profile is None:
        raise BetterAuthError(401, "Failed to get user info", "FAILED_TO_GET_USER_INFO")
    if not profile.email:
        raise BetterAuthError(401, "User email not found", "USER_EMAIL_NOT_FOUND")
    return profile


@bp.post("/sign-in/social")
@documented("Sign in with a social provider: its authorization URL, or at once with its ID token",
            body=json_schema(SOCIAL_SIGN_IN), response=shapes.SOCIAL_SIGNED_IN, auth=False, better_auth=True,
            tags=["auth"], errors=(401, 403, 404))
def sign_in_social() -> ResponseReturnValue:
    """Begin a provider's redirect flow, or sign in at once with a provider's ID token."""
    body = prepare(SOCIAL_SIGN_IN)
    oauth = oauth_settings()
    provider = oauth.providers.get(body["provider"])
    if provider is None:
        raise provider_not_found()
    if "idToken" not in body:
        return start_flow(provider, body, link=None)
    id_token = body["idToken"]
    profile = id_token_profile(provider, id_token)
    account = accounts.AccountData(provider_id=provider.id, account_id=profile.account_id,
                                   access_token=id_token.get("accessToken"), id_token=id_token["token"])
    try:
        with database.transaction() as conn:
            signed = accounts.sign_in(conn, profile=profile, account=account,
                                      trusted=provider.id in oauth.trusted,
                                      disable_sign_up=False, sealing=oauth.sealing,
                                      ip_address=context.client_ip(),
                                      user_agent=context.user_agent(), now=clock.now())
    except accounts.LinkRefused as refused:
        raise BetterAuthError(401, str(refused), "OAUTH_LINK_ERROR") from None
    return responses.session_cookie_response(
        {"redirect": False, "token": signed.session.token, "user": user_json(signed.user)},
        token=signed.session.token, remember=True)


@bp.route("/callback/<provider_id>", methods=["GET", "POST"])
@documented("Where the provider sends the browser back; redirects to the app (with ?error= on failure)",
            status=302, response=None, auth=False, better_auth=True, tags=["auth"],
            body=json_schema(CALLBACK), body_optional=True, responses={302: shapes.REDIRECT},
            body_media_type="application/x-www-form-urlencoded",      # a provider's response_mode=form_post
            parameters=tuple(shapes.query(key) for key in CALLBACK_KEYS))
def callback(provider_id: str) -> ResponseReturnValue:
    """Where the provider sends the browser back: finish sign-in or linking, then redirect."""
    if request.method == "POST":      # form_post: back to GET with the fields in the query, as better-auth
        body = prepare(CALLBACK)
        merged = {**{k: v for k, v in body.items() if isinstance(v, str)},
                  **{k: v for k, v in request.args.items()}}
        params = [(key, merged[key]) for key in CALLBACK_KEYS if key in merged]
        # quoted: the id comes from the path and may hold anything, a newline included (a header value)
        return responses.redirect_response(f"{api_base()}/callback/{quote(provider_id, safe='')}?"
                                           f"{urlencode(params)}")
    return oauth_callback.finish(provider_id, {key: request.args[key] for key in CALLBACK_KEYS
                                               if key in request.args})


@bp.post("/link-social")
@documented("Link another provider's account to the signed-in user", body=json_schema(LINK_SOCIAL),
            response=shapes.LINKED, better_auth=True, tags=["auth"], errors=(404,))
def link_social() -> ResponseReturnValue:
    """Link another provider's account to the signed-in user (redirect flow, or an ID token at once)."""
    body = prepare(LINK_SOCIAL)
    active = require_session()
    oauth = oauth_settings()
    provider = oauth.providers.get(body["provider"])
    if provider is None:
        raise provider_not_found()
    if "idToken" in body:
        return link_with_id_token(provider, body["idToken"], active)
    secret = context.settings().secret
    link = state.Link(user_id=active.user.id, email=active.user.email,
                      encrypted_session_token=accounts.seal_link_session(secret, active.session.token))
    return start_flow(provider, body, link=link)


def link_with_id_token(provider: Provider, id_token: dict[str, Any],
                       active: sessions.ActiveSession) -> Response:
    """link-social's idToken form."""
    oauth = oauth_settings()
    profile = id_token_profile(provider, id_token)
    account = accounts.AccountData(provider_id=provider.id, account_id=profile.account_id,
                                   access_token=id_token.get("accessToken"),
                                   refresh_token=id_token.get("refreshToken"), id_token=id_token["token"])
    try:
        with database.transaction() as conn:
            accounts.link_id_token(conn, user=active.user, profile=profile, account=account,
                                   trusted=provider.id in oauth.trusted, sealing=oauth.sealing,
                                   now=clock.now())
    except accounts.LinkError as refused:
        raise BetterAuthError(refused.status, refused.message, refused.code) from None
    return responses.json_response({"url": "", "status": True, "redirect": False})

