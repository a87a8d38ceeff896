"""Fixtures for social sign-in: the local fake providers and servers (genvid,
better-auth) configured for them."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakes.oauth import GOOGLE_ISSUER, FakeGitHub, FakeOIDC
from flask import Flask

from genvid.config import OAuthProviderConfig

GENERIC_ID = "acme"
GOOGLE_ORIGIN = "https://accounts.google.com"
GITHUB_ORIGIN = "https://github.com"


@dataclass
class Fakes:
    google: FakeOIDC
    github: FakeGitHub
    acme: FakeOIDC

    def genvid_settings(self) -> dict[str, Any]:
        """Config overrides that point genvid at the fakes."""
        return {"google_client_id": self.google.client_id, "google_client_secret": self.google.client_secret,
                "google_api_base": self.google.base, "github_client_id": self.github.client_id,
                "github_client_secret": self.github.client_secret, "github_api_base": self.github.base,
                "oauth_providers": (OAuthProviderConfig(provider_id=GENERIC_ID, client_id=self.acme.client_id,
                                                        client_secret=self.acme.client_secret,
                                                        discovery_url=self.acme.discovery_url,
                                                        scopes=("openid", "email", "profile")),),
                "oauth_timeout_seconds": 3.0}

    def better_auth_env(self) -> dict[str, str]:
        """tests/interop/server.mjs's variables for the same providers."""
        generic = [{"providerId": GENERIC_ID, "discoveryUrl": self.acme.discovery_url,
                    "clientId": self.acme.client_id, "clientSecret": self.acme.client_secret,
                    "scopes": ["openid", "email", "profile"]}]
        return {"GOOGLE_CLIENT_ID": self.google.client_id, "GOOGLE_CLIENT_SECRET": self.google.client_secret,
                "GOOGLE_BASE": self.google.base, "GITHUB_CLIENT_ID": self.github.client_id,
                "GITHUB_CLIENT_SECRET": self.github.client_secret, "GITHUB_BASE": self.github.base,
                "GENERIC_OAUTH": json.dumps(generic)}

    def hosts(self) -> dict[str, str]:
        """Where a browser finds each provider's pages."""
        return {GOOGLE_ORIGIN: self.google.base, GITHUB_ORIGIN: self.github.base,
                self.acme.base: self.acme.base}


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    started = Fakes(google=FakeOIDC(issuer=GOOGLE_ISSUER).start(), github=FakeGitHub().start(),
                    acme=FakeOIDC(client_id="acme-client", client_secret="acme-secret").start())
    yield started
    for fake in (started.google, started.github, started.acme):
        fake.stop()


@pytest.fixture
def social_app(make_app: Callable[..., Flask], fakes: Fakes) -> Flask:
    """genvid with the three fake providers, on its test base URL (http://localhost:8080)."""
    return make_app(**fakes.genvid_settings())
