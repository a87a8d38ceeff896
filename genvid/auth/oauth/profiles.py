"""The person behind a provider's tokens: from a verified ID token, the provider's userinfo endpoint, or
GitHub's user and emails; and a linked account's view of it (account-info).

What this adds is better-auth's wire shape: which claims make a user (name, email, image, email verified) and
the provider data kept beside them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from genvid.auth.oauth.client import Tokens, nonempty
from genvid.auth.oauth.http import get_json
from genvid.auth.oauth.id_tokens import unverified_claims, verify_id_token
from genvid.auth.oauth.providers import Provider


@dataclass(frozen=True)
class Profile:
    """The person at the provider: the account key, what makes a user, and the provider's raw data."""

    account_id: str
    email: str | None
    email_verified: bool
    name: str
    image: str | None
    data: dict[str, Any] = field(default_factory=dict)


def _flag(value: Any) -> bool | None:
    """better-auth's parseStringBoolean: true/false and their string forms."""
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    return None


def _claims_profile(claims: dict[str, Any], account_id: str) -> Profile:
    return Profile(account_id=account_id, email=nonempty(claims.get("email")),
                   email_verified=_flag(claims.get("email_verified")) or False,
                   name=nonempty(claims.get("name")) or "", image=nonempty(claims.get("picture")),
                   data=claims)


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
    email = nonempty(user.get("email"))
    if not email and emails:
        chosen = next((e for e in emails if e.get("primary")), emails[0])
        email = nonempty(chosen.get("email"))
        user["email"] = email
    verified = next((e.get("verified") is True for e in emails if e.get("email") == email), False)
    return Profile(account_id=str(user["id"]), email=email, email_verified=verified,
                   name=nonempty(user.get("name")) or nonempty(user.get("login")) or "",
                   image=nonempty(user.get("avatar_url")), data=user)


def account_info(provider: Provider, *, access_token: str, id_token: str | None, now: datetime,
                 timeout: float) -> Profile | None:
    """The provider's view of a linked account (GET /account-info): its profile from the stored tokens."""
    if provider.kind == "google":
        if not id_token:
            return None
        claims = unverified_claims(id_token)
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
