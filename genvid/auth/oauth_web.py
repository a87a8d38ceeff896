"""Request-side pieces shared by the social sign-in views:
this app's OAuth settings and better-auth's URLs."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from genvid.auth.oauth import accounts
from genvid.auth.oauth.providers import Provider, Providers
from genvid.http.app_config import app_config
from genvid.http.request_context import this_app

_OAUTH_EXTENSION = "genvid.auth.oauth"


@dataclass(frozen=True)
class OAuthSettings:
    """This app's providers and token storage (built once per app, off the get-session path)."""

    providers: Providers
    sealing: accounts.TokenSealing
    trusted: frozenset[str]


def oauth_settings() -> OAuthSettings:
    """This app's OAuth settings."""
    app = this_app()
    cached: OAuthSettings | None = app.extensions.get(_OAUTH_EXTENSION)
    if cached is None:
        config = app_config(app)
        cached = OAuthSettings(providers=Providers(config),
                               sealing=accounts.TokenSealing(config.oauth_token_encryption,
                                                             config.better_auth_secret),
                               trusted=frozenset(config.trusted_providers))
        app.extensions[_OAUTH_EXTENSION] = cached
    return cached


def api_base() -> str:
    """better-auth's context.baseURL: BETTER_AUTH_URL plus the /api/auth base path."""
    return app_config().better_auth_url.rstrip("/") + "/api/auth"


def redirect_uri(provider: Provider) -> str:
    return f"{api_base()}/callback/{provider.id}"


def append_query(url: str, **params: str) -> str:
    """better-auth's appendQueryParams: the parameters after any existing query, before the fragment."""
    parts = urlsplit(url)
    query = urlencode(params)
    joined = f"{parts.query}{'' if parts.query.endswith('&') or not parts.query else '&'}{query}"
    return urlunsplit(parts._replace(query=joined))


