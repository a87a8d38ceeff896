"""better-auth's cookies: names, HMAC signatures, and Set-Cookie headers in better-call's attribute order."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from urllib.parse import quote, unquote

SESSION_TOKEN = "better-auth.session_token"
SESSION_DATA = "better-auth.session_data"
DONT_REMEMBER = "better-auth.dont_remember"
SECURE_PREFIX = "__Secure-"
SESSION_MAX_AGE = 604800
_SIGNATURE_LENGTH = 44


def signature(secret: str, value: str) -> str:
    """base64 (standard, padded) of HMAC-SHA256(key=secret, msg=value): 44 characters ending in '='."""
    digest = hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_value(secret: str, value: str) -> str:
    """`value.signature`, not URL-encoded (what set-auth-token carries)."""
    return f"{value}.{signature(secret, value)}"


def encode_cookie_value(raw: str) -> str:
    """encodeURIComponent, as better-call serialises cookie values."""
    return quote(raw, safe="-_.!~*'()")


def verify_signed(secret: str, raw: str | None) -> str | None:
    """The value inside a signed cookie value (URL-encoded or not), or None when absent or badly signed."""
    if not raw:
        return None
    return _verified(secret, raw)


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, raw: str) -> str | None:
    # A pure function of its arguments: a client sending the same cookie on every request (get-session
    # polling) is checked once per process instead of once per request. Bounded, so junk only evicts.
    decoded = unquote(raw) if "%" in raw else raw
    value, dot, sig = decoded.rpartition(".")
    if not dot or len(sig) != _SIGNATURE_LENGTH or not sig.endswith("="):
        return None
    if not hmac.compare_digest(sig.encode("utf-8"), signature(secret, value).encode("utf-8")):
        return None
    return value


class CookieJar:
    """Cookie names and Set-Cookie headers for one configuration (https base URL → `__Secure-` + Secure)."""

    def __init__(self, *, secret: str, secure: bool) -> None:
        self.secret = secret
        self.secure = secure
        prefix = SECURE_PREFIX if secure else ""
        self.session_token = prefix + SESSION_TOKEN
        self.session_data = prefix + SESSION_DATA
        self.dont_remember = prefix + DONT_REMEMBER

    def _header(self, name: str, value: str, max_age: int | None) -> str:
        parts = [f"{name}={value}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        parts += ["Path=/", "HttpOnly"]
        if self.secure:
            parts.append("Secure")
        parts.append("SameSite=Lax")
        return "; ".join(parts)

    def name(self, base: str) -> str:
        """A better-auth cookie name as this configuration spells it (`__Secure-` under https)."""
        return (SECURE_PREFIX if self.secure else "") + base

    def signed_header(self, base: str, value: str, *, max_age: int) -> str:
        """Set-Cookie for a signed cookie (better-call's setSignedCookie), e.g. the OAuth state."""
        return self._header(self.name(base), encode_cookie_value(signed_value(self.secret, value)), max_age)

    def expiring_header(self, base: str) -> str:
        """Set-Cookie that deletes one cookie (better-auth's expireCookie)."""
        return self._header(self.name(base), "", 0)

    def session_headers(self, token: str, *, remember: bool) -> list[str]:
        """Set-Cookie headers for a session: Max-Age 7 days, or a browser-session cookie + dont_remember."""
        value = encode_cookie_value(signed_value(self.secret, token))
        if remember:
            return [self._header(self.session_token, value, SESSION_MAX_AGE)]
        dont = encode_cookie_value(signed_value(self.secret, "true"))
        return [self._header(self.session_token, value, None), self._header(self.dont_remember, dont, None)]

    def clearing_headers(self) -> list[str]:
        """The three Set-Cookie headers that delete better-auth's cookies."""
        return [
            self._header(name, "", 0) for name in (self.session_token, self.session_data, self.dont_remember)]
