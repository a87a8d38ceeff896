"""The OAuth 2.0 protocol, through Authlib: authorization URLs with PKCE (S256) and nonce, and the code
exchange and refresh (Authlib's OAuth2Session). ID tokens are verified in id_tokens, and the person behind the
tokens is read in profiles.

What this adds to the library is only better-auth's wire shape: the order of the authorization URL's
parameters, and its token fields.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from genvid.auth.oauth.http import ProviderError
from genvid.auth.oauth.providers import Provider


@dataclass(frozen=True)
class Tokens:
    """A token endpoint's answer, as better-auth's getOAuth2Tokens reads it (None: the field was absent)."""

    access_token: str | None
    refresh_token: str | None
    id_token: str | None
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    scopes: list[str]
    token_type: str | None = None


def form_encode(value: str) -> str:
    """A value as URLSearchParams writes it (space as '+'; '*-._' and alphanumerics kept)."""
    return quote_plus(value, safe="*").replace("~", "%7E")


def authorization_url(provider: Provider, *, state: str, code_verifier: str, redirect_uri: str,
                      scopes: list[str] | None = None, login_hint: str | None = None,
                      nonce: str | None = None, additional_params: dict[str, str] | None = None) -> str:
    """Where the browser goes to consent, with better-auth's parameters in its order."""
    params: list[tuple[str, str]] = [("response_type", "code"), ("client_id", provider.client_id),
                                     ("state", state)]
    scope_list = provider.scopes(scopes)
    if scope_list:
        params.append(("scope", " ".join(scope_list)))
    params.append(("redirect_uri", redirect_uri))
    if login_hint:
        params.append(("login_hint", login_hint))
    if nonce:
        params.append(("nonce", nonce))
    if provider.pkce:
        params += [("code_challenge_method", "S256"),
                   ("code_challenge", create_s256_code_challenge(code_verifier))]
    seen = {name for name, _ in params}
    for name, value in [*provider.extra_params, *(additional_params or {}).items()]:
        if name in seen:
            params = [(n, v) for n, v in params if n != name]
        params.append((name, value))
        seen.add(name)
    query = "&".join(f"{name}={form_encode(value)}" for name, value in params)
    separator = "&" if "?" in provider.authorization_url else "?"
    return provider.authorization_url + separator + query


def _session(provider: Provider) -> OAuth2Session:
    method = "client_secret_basic" if provider.authentication == "basic" else (
        "client_secret_post" if provider.client_secret else "none")
    return OAuth2Session(provider.client_id, provider.client_secret, token_endpoint_auth_method=method)


def _tokens(data: dict[str, Any], *, now: datetime) -> Tokens:
    def later(seconds: Any) -> datetime | None:
        return now + timedelta(seconds=float(seconds)) if isinstance(seconds,
                                                                     int | float) and seconds else None

    scope = data.get("scope")
    if isinstance(scope, list):
        scopes = [s.strip() for s in scope if isinstance(s, str) and s.strip()]
    else:
        scopes = scope.split() if isinstance(scope, str) else []
    return Tokens(access_token=nonempty(data.get("access_token")),
                  refresh_token=nonempty(data.get("refresh_token")), id_token=nonempty(data.get("id_token")),
                  access_token_expires_at=later(data.get("expires_in")),
                  refresh_token_expires_at=later(data.get("refresh_token_expires_in")), scopes=scopes,
                  token_type=nonempty(data.get("token_type")))


def exchange_code(provider: Provider, *, code: str, code_verifier: str | None, redirect_uri: str,
                  now: datetime, timeout: float) -> Tokens:
    """The tokens for an authorization code (PKCE verifier included); ProviderError on any failure."""
    extra = {"code_verifier": code_verifier} if provider.pkce and code_verifier else {}
    try:
        with _session(provider) as session:
            data = session.fetch_token(provider.token_url, grant_type="authorization_code", code=code,
                                       redirect_uri=redirect_uri, timeout=timeout, allow_redirects=False,
                                       **extra)
    # Authlib's OAuthError, requests' errors, a non-JSON answer: all a failed exchange
    except Exception as exc:
        raise ProviderError(f"code exchange failed: {type(exc).__name__}") from exc
    return _tokens(dict(data), now=now)


def refresh(provider: Provider, *, refresh_token: str, now: datetime, timeout: float) -> Tokens:
    """New tokens for a refresh token; ProviderError on any failure or an answer without an access token."""
    try:
        with _session(provider) as session:
            data = dict(
                session.refresh_token(provider.token_url, refresh_token=refresh_token, timeout=timeout,
                                      allow_redirects=False))
    except Exception as exc:
        raise ProviderError(f"refresh failed: {type(exc).__name__}") from exc
    if not nonempty(data.get("access_token")):
        raise ProviderError("refresh answered no access token")
    if data.get("refresh_token") == refresh_token:
        data.pop("refresh_token")     # Authlib copies the old one in; better-auth keeps the stored one anyway
    return _tokens(data, now=now)


def nonempty(value: Any) -> str | None:
    """A JSON value that is a non-empty string, else None (as better-auth reads optional fields)."""
    return value if isinstance(value, str) and value else None
