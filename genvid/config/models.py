"""The structured values settings hold: credit packs, plans, generic OAuth providers; and origin_of()."""
from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BUILT_IN_PROVIDERS = ("google", "github")


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased, default ports dropped; "" when url is not absolute."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    except ValueError:                                  # a port out of range
        return ""
    return f"{parts.scheme.lower()}://{host}{port}"


def _absolute(value: str) -> str:
    if not origin_of(value):
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


AbsoluteUrl = Annotated[str, AfterValidator(_absolute)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreditPack(_Frozen):
    """A one-time purchase of credits, priced by a Stripe price id or by an amount (price_data)."""

    id: str
    name: str
    credits: int = Field(gt=0)
    price_id: str | None = None      # a Stripe price id, or ...
    amount: int | None = Field(None, gt=0)   # ... an amount in the currency's smallest unit
    currency: str = "usd"

    @model_validator(mode="after")
    def _priced(self) -> CreditPack:
        if self.price_id is None and self.amount is None:
            raise ValueError("needs price_id or amount")
        return self


class Plan(_Frozen):
    """A subscription granting credits every billing period."""

    id: str
    name: str
    credits_per_period: int = Field(gt=0)
    price_id: str | None = None
    amount: int | None = Field(None, gt=0)
    currency: str = "usd"
    interval: Literal["day", "week", "month", "year"] = "month"

    @model_validator(mode="after")
    def _priced(self) -> Plan:
        if self.price_id is None and self.amount is None:
            raise ValueError("needs price_id or amount")
        return self


class OAuthProviderConfig(_Frozen):
    """Any other OAuth 2.0 / OpenID Connect provider (better-auth's generic-oauth):
    discovery or explicit endpoints."""

    provider_id: str = Field(pattern=PROVIDER_ID.pattern)   # the :id of /api/auth/callback/:id
    client_id: str = Field(min_length=1)
    client_secret: str | None = None
    discovery_url: AbsoluteUrl | None = None       # .well-known/openid-configuration: endpoints, issuer, JWKS
    authorization_url: AbsoluteUrl | None = None   # explicit endpoints win over discovered ones
    token_url: AbsoluteUrl | None = None
    user_info_url: AbsoluteUrl | None = None
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    authentication: Literal["post", "basic"] = "post"   # client_secret_post, or client_secret_basic

    @model_validator(mode="after")
    def _usable(self) -> OAuthProviderConfig:
        if self.provider_id in (*BUILT_IN_PROVIDERS, "credential"):
            raise ValueError(f"provider_id {self.provider_id!r} is taken (built in)")
        if not (self.discovery_url or (self.authorization_url and self.token_url)):
            raise ValueError("needs discovery_url, or authorization_url and token_url")
        if self.authentication == "basic" and not self.client_secret:
            raise ValueError("authentication basic needs client_secret")
        return self


DEFAULT_PACKS = (
    CreditPack(id="starter", name="Starter: 100 credits", credits=100, amount=900),
    CreditPack(id="creator", name="Creator: 500 credits", credits=500, amount=3900),
    CreditPack(id="studio", name="Studio: 2000 credits", credits=2000, amount=12900),
)
DEFAULT_PLANS = (
    Plan(id="monthly-basic", name="Basic: 300 credits a month", credits_per_period=300, amount=1900),
    Plan(id="monthly-pro", name="Pro: 1500 credits a month", credits_per_period=1500, amount=7900),
)
