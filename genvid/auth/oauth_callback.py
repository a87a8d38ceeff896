"""GET /api/auth/callback/:id, better-auth's callbackOAuth step by step: the state (consumed once), the
provider's answer, the code exchange, the profile, then a link or a sign-in, and a redirect either way.

Every failure is a 302 to the error URL (the flow's errorCallbackURL, else /api/auth/error) with
`error=<code>` (and `error_description` when the provider sent one); the state cookie is expired once the
state was read.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Response

from genvid import clock
from genvid.auth import context, cookies, responses
from genvid.auth.oauth import accounts, client, profiles, state
from genvid.auth.oauth.client import Tokens
from genvid.auth.oauth.http import ProviderError
from genvid.auth.oauth.profiles import Profile
from genvid.auth.oauth.providers import Provider
from genvid.auth.oauth_web import api_base, append_query, oauth_settings, redirect_uri
from genvid.infra import database


class _Redirect(Exception):
    """Ends the callback with a redirect."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.headers.get("Location"))
        self.response = response


def finish(provider_id: str, query: dict[str, str]) -> Response:
    """Finish the flow behind query's state; always a redirect."""
    try:
        return _finish(provider_id, query)
    except _Redirect as done:
        return done.response


def _error(url: str, code: str, *, description: str | None = None,
           cookies: list[str] | None = None) -> _Redirect:
    params = {"error": code}
    if description:
        params["error_description"] = description
    return _Redirect(responses.redirect_with_cookies(append_query(url, **params), set_cookies=cookies or []))


def _finish(provider_id: str, query: dict[str, str]) -> Response:
    flow, cleared = _consume_state(query)
    error_url = flow.error_url or f"{api_base()}/error"

    def fail(code: str, description: str | None = None) -> _Redirect:
        return _error(error_url, code, description=description, cookies=cleared)

    if query.get("error"):
        raise fail(query["error"], query.get("error_description"))
    provider, tokens, profile = _provider_answer(provider_id, query, flow, fail)
    oauth = oauth_settings()
    account = accounts.AccountData.from_tokens(provider.id, profile.account_id, tokens)
    trusted = provider.id in oauth.trusted
    if flow.link is not None:
        try:
            with database.transaction() as conn:
                accounts.link(conn, link=flow.link, profile=profile, account=account, scopes=tokens.scopes,
                              trusted=trusted, secret=context.settings().secret, sealing=oauth.sealing,
                              now=clock.now())
        except accounts.LinkRefused as refused:
            raise fail(str(refused)) from None
        return responses.redirect_with_cookies(flow.callback_url, set_cookies=cleared)
    if not profile.email:
        raise fail("email_not_found")
    try:
        with database.transaction() as conn:
            signed = accounts.sign_in(conn, profile=profile, account=account, trusted=trusted,
                                      disable_sign_up=False, sealing=oauth.sealing,
                                      ip_address=context.client_ip(),
                                      user_agent=context.user_agent(), now=clock.now())
    except accounts.LinkRefused as refused:
        raise fail(str(refused).replace(" ", "_")) from None
    target = (flow.new_user_url or flow.callback_url) if signed.is_register else flow.callback_url
    session_cookies = context.settings().jar.session_headers(signed.session.token, remember=True)
    return responses.redirect_with_cookies(target, set_cookies=[*cleared, *session_cookies],
                                           session_token=signed.session.token)


def _consume_state(query: dict[str, str]) -> tuple[state.FlowState, list[str]]:
    """The flow the query's state names, used up, and the header that expires the state cookie; a redirect to
    the error page when there is no usable state."""
    default_error = f"{api_base()}/error"
    flow_state = query.get("state")
    if not flow_state:
        raise _error(default_error, "state_not_found")
    cleared = [context.settings().jar.expiring_header(state.STATE_COOKIE)]
    refused: state.StateError | None = None
    with database.transaction() as conn:
        try:
            flow = state.consume(conn, state=flow_state, cookie_state=auth_cookie_state(), now=clock.now())
        except state.StateError as failed:       # caught inside: a used-up (expired) row stays deleted
            refused = failed
    if refused is not None:
        raise _error(refused.error_url or default_error, refused.code,
                     cookies=cleared if refused.cookie_cleared else None)
    return flow, cleared


def _provider_answer(provider_id: str, query: dict[str, str], flow: state.FlowState,
                     fail: Callable[[str], _Redirect]) -> tuple[Provider, Tokens, Profile]:
    """The provider's tokens for the query's code and the person they name (no database connection is held
    while the provider answers); fail(code) for each way that can go wrong."""
    code = query.get("code")
    if not code:
        raise fail("no_code")
    oauth = oauth_settings()
    provider = oauth.providers.get(provider_id)
    if provider is None:
        raise fail("oauth_provider_not_found")
    if query.get("iss") and provider.issuer and query["iss"] != provider.issuer:
        raise fail("issuer_mismatch")
    if provider.requires_nonce and not flow.id_token_nonce:
        raise fail("nonce_binding_missing")
    now, timeout = clock.now(), oauth.providers.timeout
    try:
        tokens = client.exchange_code(provider, code=code, code_verifier=flow.code_verifier,
                                      redirect_uri=redirect_uri(provider), now=now, timeout=timeout)
    except ProviderError:
        raise fail("invalid_code") from None
    profile = profiles.profile(provider, tokens, nonce=flow.id_token_nonce, now=now, timeout=timeout)
    if profile is None:
        raise fail("unable_to_get_user_info")
    return provider, tokens, profile


def auth_cookie_state() -> str | None:
    """The state the signed state cookie holds (None: absent or badly signed)."""
    auth = context.settings()
    return cookies.verify_signed(auth.secret, context.request_cookie(auth.jar.name(state.STATE_COOKIE)))
