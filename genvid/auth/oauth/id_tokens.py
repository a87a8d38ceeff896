"""ID tokens verified against the provider's JWKS (joserfc, with Authlib's OIDC claim rules: iss, aud, exp,
iat, nonce, azp), and the claims of one this server stored after verifying it.

A provider's key set is fetched once and kept JWKS_TTL seconds, and fetched again at once for a token signed
by a key it does not hold (the provider rotated its keys).
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import Any

from authlib.oidc.core import IDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry, extract_compact

from genvid.auth.oauth.http import get_json
from genvid.auth.oauth.providers import Provider

ID_TOKEN_LEEWAY = 30          # seconds of clock skew on exp/iat, as better-auth (and openid-client) allow
JWKS_TTL = 300                # better-auth keeps a fetched key set 5 minutes


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


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The payload of an ID token this server stored after verifying it (account-info reads it back)."""
    try:
        payload = json.loads(extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None
