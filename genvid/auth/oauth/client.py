"""The OAuth 2.0 / OpenID Connect protocol, through Authlib: authorization URLs with PKCE (S256) and nonce,
the code exchange and refresh (Authlib's OAuth2Session), ID tokens verified against the provider's JWKS
(joserfc, with Authlib's OIDC claim rules: iss, aud, exp, iat, nonce, azp), and each provider's profile.

What this adds to the library is only better-auth's wire shape: the order of the authorization URL's
parameters, its token and profile fields, and which claims make a user (name, email, image, email verified).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import IDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry, extract_compact

from genvid.auth.oauth.http import ProviderError, get_json
from genvid.auth.oauth.providers import Provider

ID_TOKEN_LEEWAY = 30          # seconds of clock skew on exp/iat, as better-auth (and openid-client) allow
JWKS_TTL = 300                # better-auth keeps a fetched key set 5 minutes


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


@dataclass(frozen=True)
class Profile:
    """The person at the provider: the account key, what makes a user, and the provider's raw data."""

    account_id: str
    email: str | None
    email_verified: bool
    name: str
    image: str | None
    data: dict[str, Any] = field(default_factory=dict)


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
    return Tokens(access_token=_opt(data.get("access_token")), refresh_token=_opt(data.get("refresh_token")),
                  id_token=_opt(data.get("id_token")), access_token_expires_at=later(data.get("expires_in")),
                  refresh_token_expires_at=later(data.get("refresh_token_expires_in")), scopes=scopes,
                  token_type=_opt(data.get("token_type")))


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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
    if not _opt(data.get("access_token")):
        raise ProviderError("refresh answered no access token")
    if data.get("refresh_token") == refresh_token:
        data.pop("refresh_token")     # Authlib copies the old one in; better-auth keeps the stored one anyway
    return _tokens(data, now=now)


class _KeySets:
    """Fetched JWKS per URL, kept JWKS_TTL seconds and fetched again for an unknown key id."""

    def __init__(self) -> None:
        self._sets: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, *, timeout: float, refresh: bool = False) -> dict[str, Any] | None:
        with self._lock:
            cached = self._sets.get(url)
        if cached and not refresh and time.monotonic() - cached[0] < JWKS_TTL:
            return cached[1]
        fetched = get_json(url, timeout=timeout)
        if not isinstance(fetched, dict) or not isinstance(fetched.get("keys"), list):
            return None
        with self._lock:
            self._sets[url] = (time.monotonic(), fetched)
        return fetched


_key_sets = _KeySets()


def verify_id_token(provider: Provider, token: str, *, nonce: str | None, now: datetime,
                    timeout: float) -> dict[str, Any] | None:
    """The claims of an ID token signed by the provider's JWKS for this client, unexpired, from its issuer and
    carrying the expected nonce; None for any other token (or when the provider cannot verify ID tokens)."""
    check = provider.id_token
    if check is None or token.count(".") != 2:
        return None
    registry = JWSRegistry(algorithms=list(check.algorithms))
    for refresh_keys in (False, True):
        keys = _key_sets.get(check.jwks_uri, timeout=timeout, refresh=refresh_keys)
        if keys is None:
            return None
        try:
            decoded = jwt.decode(token, KeySet.import_key_set(keys), registry=registry)  # type: ignore[arg-type]
            break
        except JoseError:
            if refresh_keys:
                return None
        except (ValueError, TypeError):
            return None
    options: dict[str, Any] = {"iss": {"essential": True, "values": list(check.issuers)},
                               "aud": {"essential": True, "values": [check.audience]}}
    claims = IDToken(decoded.claims, decoded.header, options, {"nonce": nonce, "client_id": check.audience})
    seconds = int(now.timestamp())
    try:
        claims.validate(now=seconds, leeway=ID_TOKEN_LEEWAY)
    except (JoseError, ValueError, TypeError):
        return None
    if check.max_age is not None and seconds - int(claims["iat"]) > check.max_age + ID_TOKEN_LEEWAY:
        return None
    return dict(claims)


def _flag(value: Any) -> bool | None:
    """better-auth's parseStringBoolean: true/false and their string forms."""
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    return None


def _claims_profile(claims: dict[str, Any], account_id: str) -> Profile:
    return Profile(account_id=account_id, email=_opt(claims.get("email")),
                   email_verified=_flag(claims.get("email_verified")) or False,
                   name=_opt(claims.get("name")) or "", image=_opt(claims.get("picture")), data=claims)


def profile_from_id_token(provider: Provider, claims: dict[str, Any]) -> Profile | None:
    """The person an ID token names (idToken sign-in and the code flow of OIDC providers)."""
    subject = claims.get("sub")
    if subject is None or str(subject).strip() in ("", "undefined", "null"):
        return None
    if provider.kind == "generic" and not claims.get("email"):
        return None
    return _claims_profile(claims, str(subject))


def profile(provider: Provider, tokens: Tokens, *, nonce: str | None, now: datetime,
            timeout: float) -> Profile | None:
    """The person behind freshly exchanged tokens; None when the provider does not tell
    (or its ID token fails)."""
    if provider.kind == "github":
        return _github_profile(provider, tokens, timeout=timeout)
    claims: dict[str, Any] | None = None
    if tokens.id_token and provider.id_token is not None:
        claims = verify_id_token(provider, tokens.id_token, nonce=nonce, now=now, timeout=timeout)
        if claims is None:
            return None
    if provider.kind == "google":
        return profile_from_id_token(provider, claims) if claims else None
    return _generic_profile(provider, tokens, claims, timeout=timeout)


def _generic_profile(provider: Provider, tokens: Tokens, claims: dict[str, Any] | None, *,
                     timeout: float) -> Profile | None:
    if claims and claims.get("sub") and claims.get("email"):
        # better-auth's fetchUserInfo: {id, emailVerified, image, ...claims} (a JS spread keeps the first
        # places)
        raw = {"id": claims["sub"], "emailVerified": _flag(claims.get("email_verified")) or False,
               "image": claims.get("picture")}
        raw.update(claims)
        raw = {k: v for k, v in raw.items() if not (v is None and k == "image")}
    else:
        if not provider.user_info_url or not tokens.access_token:
            return None
        raw = get_json(provider.user_info_url, timeout=timeout,
                       headers={"Authorization": f"Bearer {tokens.access_token}"})
        if not isinstance(raw, dict):
            return None
        if claims is not None and raw.get("sub") is not None and str(raw["sub"]) != claims.get("sub"):
            return None
        # better-auth's {...userinfo, email, emailVerified, image: picture, name}
        added = {"email": raw.get("email"), "emailVerified": _flag(raw.get("email_verified")) or False,
                 "image": raw.get("picture"), "name": raw.get("name")}
        raw = {**raw, **{k: v for k, v in added.items() if v is not None or k in raw}}
    if not provider.openid:
        subject = raw.get("id")
    elif provider.id_token is not None and claims is not None:
        subject = claims.get("sub")
    else:
        subject = raw.get("sub")
    if subject is None or str(subject).strip() in ("", "undefined", "null"):
        return None
    return _claims_profile(raw, str(subject))


def _github_profile(provider: Provider, tokens: Tokens, *, timeout: float) -> Profile | None:
    assert provider.user_info_url is not None and provider.emails_url is not None
    headers = {"Authorization": f"Bearer {tokens.access_token}", "User-Agent": "genvid"}
    user = get_json(provider.user_info_url, timeout=timeout, headers=headers)
    if not isinstance(user, dict) or user.get("id") is None:
        return None
    emails = get_json(provider.emails_url, timeout=timeout, headers=headers)
    emails = [e for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []
    email = _opt(user.get("email"))
    if not email and emails:
        chosen = next((e for e in emails if e.get("primary")), emails[0])
        email = _opt(chosen.get("email"))
        user["email"] = email
    verified = next((e.get("verified") is True for e in emails if e.get("email") == email), False)
    return Profile(account_id=str(user["id"]), email=email, email_verified=verified,
                   name=_opt(user.get("name")) or _opt(user.get("login")) or "",
                   image=_opt(user.get("avatar_url")), data=user)


def account_info(provider: Provider, *, access_token: str, id_token: str | None, now: datetime,
                 timeout: float) -> Profile | None:
    """The provider's view of a linked account (GET /account-info): its profile from the stored tokens."""
    if provider.kind == "google":
        if not id_token:
            return None
        claims = _unverified_claims(id_token)
        return profile_from_id_token(provider, claims) if claims else None
    tokens = Tokens(access_token=access_token, refresh_token=None, id_token=id_token,
                    access_token_expires_at=None, refresh_token_expires_at=None, scopes=[])
    if provider.kind == "github":
        return _github_profile(provider, tokens, timeout=timeout)
    claims = None
    if id_token and provider.id_token is not None:       # better-auth verifies the stored ID token again
        claims = verify_id_token(provider, id_token, nonce=None, now=now, timeout=timeout)
        if claims is None:
            return None
    return _generic_profile(provider, tokens, claims, timeout=timeout)


def _unverified_claims(token: str) -> dict[str, Any] | None:
    """The payload of an ID token this server stored after verifying it (account-info reads it back)."""
    try:
        payload = json.loads(extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None
