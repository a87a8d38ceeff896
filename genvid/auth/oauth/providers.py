"""The configured providers: Google and GitHub built in (better-auth's endpoints, scopes and claims), and any
other OAuth 2.0 / OIDC provider by configuration (better-auth's generic-oauth: discovery or explicit
endpoints).

A generic provider with a discovery URL is resolved on first use and kept; when discovery fails the provider
is missing for that request (better-auth skips it at start and retries on the next request naming it).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from genvid.auth.oauth import http
from genvid.config import Config, OAuthProviderConfig

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
GOOGLE_ID_TOKEN_MAX_AGE = 3600          # better-auth's maxTokenAge for Google ID tokens ("1h")


@dataclass(frozen=True)
class IdTokenCheck:
    """How a provider's ID tokens are verified: JWKS, accepted issuers, audience, algorithms, maximum age."""

    jwks_uri: str
    issuers: tuple[str, ...]
    audience: str
    algorithms: tuple[str, ...]
    max_age: int | None = None


@dataclass(frozen=True)
class Provider:
    """One provider, ready for the protocol code (genvid.auth.oauth.client, id_tokens, profiles)."""

    id: str
    kind: str                                  # google | github | generic
    client_id: str
    client_secret: str | None
    authorization_url: str
    token_url: str
    user_info_url: str | None = None
    emails_url: str | None = None              # GitHub's /user/emails
    default_scopes: tuple[str, ...] = ()
    pkce: bool = True
    authentication: str = "post"
    id_token: IdTokenCheck | None = None
    issuer: str | None = None                  # a callback's `iss` must equal it, when both are present
    openid: bool = False                       # generic: discovery advertised ID-token signing
    extra_params: tuple[tuple[str, str], ...] = ()

    @property
    def requires_nonce(self) -> bool:
        """Generic providers with verifiable ID tokens bind them to the redirect with a nonce
        (better-auth)."""
        return self.kind == "generic" and self.id_token is not None

    def scopes(self, requested: list[str] | None) -> list[str]:
        """The scope list of an authorization request, in better-auth's order."""
        if self.kind == "generic":
            merged = [*(requested or []), *self.default_scopes]
            if self.openid and "openid" not in merged:
                merged.insert(0, "openid")
            return merged
        return [*self.default_scopes, *(requested or [])]


def google(config: Config) -> Provider | None:
    if not (config.google_client_id and config.google_client_secret):
        return None
    accounts = config.google_api_base or "https://accounts.google.com"
    tokens = config.google_api_base or "https://oauth2.googleapis.com"
    certs = config.google_api_base or "https://www.googleapis.com"
    return Provider(
        id="google", kind="google", client_id=config.google_client_id,
        client_secret=config.google_client_secret,
        authorization_url=f"{accounts}/o/oauth2/v2/auth", token_url=f"{tokens}/token",
        default_scopes=("email", "profile", "openid"), extra_params=(("include_granted_scopes", "true"),),
        id_token=IdTokenCheck(jwks_uri=f"{certs}/oauth2/v3/certs", issuers=GOOGLE_ISSUERS,
                              audience=config.google_client_id, algorithms=("RS256",),
                              max_age=GOOGLE_ID_TOKEN_MAX_AGE))


def github(config: Config) -> Provider | None:
    if not (config.github_client_id and config.github_client_secret):
        return None
    web = config.github_api_base or "https://github.com"
    api = config.github_api_base or "https://api.github.com"
    return Provider(
        id="github", kind="github", client_id=config.github_client_id,
        client_secret=config.github_client_secret,
        authorization_url=f"{web}/login/oauth/authorize", token_url=f"{web}/login/oauth/access_token",
        user_info_url=f"{api}/user", emails_url=f"{api}/user/emails",
        default_scopes=("read:user", "user:email"))


def generic(entry: OAuthProviderConfig, *, timeout: float) -> Provider | None:
    """A generic provider, its endpoints completed by discovery; None when discovery leaves it unusable."""
    authorization_url, token_url = entry.authorization_url, entry.token_url
    user_info_url = entry.user_info_url
    issuer, openid, check = None, False, None
    if entry.discovery_url:
        document = http.get_json(entry.discovery_url, timeout=timeout)
        if isinstance(document, dict):
            authorization_url = authorization_url or _str(document.get("authorization_endpoint"))
            token_url = token_url or _str(document.get("token_endpoint"))
            user_info_url = user_info_url or _str(document.get("userinfo_endpoint"))
            issuer = _str(document.get("issuer"))
            algorithms = document.get("id_token_signing_alg_values_supported")
            openid = isinstance(algorithms, list) and bool(algorithms)
            jwks_uri = _str(document.get("jwks_uri"))
            if jwks_uri and issuer:
                check = IdTokenCheck(jwks_uri=jwks_uri, issuers=(issuer,), audience=entry.client_id,
                                     algorithms=tuple(str(a) for a in algorithms or ()) if openid
                                     else ("RS256",))
    if not authorization_url or not token_url:
        return None
    return Provider(id=entry.provider_id, kind="generic", client_id=entry.client_id,
                    client_secret=entry.client_secret, authorization_url=authorization_url,
                    token_url=token_url,
                    user_info_url=user_info_url, default_scopes=entry.scopes, pkce=entry.pkce,
                    authentication=entry.authentication, id_token=check, issuer=issuer, openid=openid)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class Providers:
    """The providers of one app; generic ones are resolved (discovered) on first use and then kept."""

    def __init__(self, config: Config) -> None:
        self._timeout = config.oauth_timeout_seconds
        self._ready: dict[str, Provider] = {
            p.id: p for p in (google(config), github(config)) if p is not None}
        self._pending: dict[str, OAuthProviderConfig] = {p.provider_id: p for p in config.oauth_providers}
        for provider_id in self._pending:      # a generic provider shadows a built-in one, as in better-auth
            self._ready.pop(provider_id, None)
        self._lock = threading.Lock()

    def get(self, provider_id: str) -> Provider | None:
        """The provider with this id, or None (unknown, or its discovery failed this time)."""
        found = self._ready.get(provider_id)
        if found is not None:
            return found
        entry = self._pending.get(provider_id)
        if entry is None:
            return None
        provider = generic(entry, timeout=self._timeout)      # outside the lock: a network call
        if provider is not None:
            with self._lock:
                self._ready[provider_id] = provider
        return provider

    @property
    def timeout(self) -> float:
        return self._timeout
