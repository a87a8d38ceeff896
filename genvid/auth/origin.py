"""better-auth's Origin/CSRF checks (spec section 9) and callback URL checks. genvid keeps them on in tests.

Pure functions over headers and the trusted origin set, so they are tested without a server.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

from genvid.config import origin_of
from genvid.errors import BetterAuthError

if TYPE_CHECKING:
    from werkzeug.datastructures import Headers

HeaderMap = Union["Headers", Mapping[str, str]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATHS = frozenset({"/sign-up/email", "/sign-in/email"})
_CALLBACK_KEYS = (
    ("callbackURL", "INVALID_CALLBACK_URL", "Invalid callbackURL"),
    ("redirectTo", "INVALID_REDIRECT_URL", "Invalid redirectURL"),
    ("errorCallbackURL", "INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL"),
    ("newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL"),
)


def _invalid_origin() -> BetterAuthError:
    return BetterAuthError(403, "Invalid origin", "INVALID_ORIGIN")


def _missing_origin() -> BetterAuthError:
    return BetterAuthError(403, "Missing or null Origin", "MISSING_OR_NULL_ORIGIN")


def _request_origin(headers: HeaderMap) -> str | None:
    """Origin, else the origin of Referer; None when absent or the literal 'null'."""
    value = headers.get("Origin") or headers.get("Referer") or ""
    if not value or value == "null":
        return None
    return value


def is_trusted(url: str, trusted: Iterable[str]) -> bool:
    """True when url's origin (scheme, host, port) is one of the trusted origins."""
    origin = origin_of(url)
    return bool(origin) and origin in trusted


def cookie_request_refusal(*, method: str, headers: HeaderMap,
                           trusted: frozenset[str]) -> BetterAuthError | None:
    """The 403 for a state-changing request that carries cookies (so a browser may have added them on another
    site's behalf) from an untrusted or unknown origin; None when the request may go on."""
    if method.upper() in SAFE_METHODS or not headers.get("Cookie"):
        return None
    origin = _request_origin(headers)
    if origin is None:
        return _missing_origin()
    if not is_trusted(origin, trusted):
        return _invalid_origin()
    return None


def check_request_origin(*, method: str, path: str, headers: HeaderMap, trusted: frozenset[str]) -> None:
    """Raise 403 as better-auth does for a state-changing request from an untrusted or unknown origin."""
    if method.upper() in SAFE_METHODS:
        return
    if headers.get("Cookie"):
        refusal = cookie_request_refusal(method=method, headers=headers, trusted=trusted)
        if refusal is not None:
            raise refusal
        return
    origin = _request_origin(headers)
    if path not in LOGIN_PATHS:
        return
    site, mode = headers.get("Sec-Fetch-Site"), headers.get("Sec-Fetch-Mode")
    if site is not None or mode is not None or headers.get("Sec-Fetch-Dest") is not None:
        if site == "cross-site" and mode == "navigate":
            raise BetterAuthError(403,
                                  "Cross-site navigation login blocked. This request appears to be a CSRF "
                                  "attack.", "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
        if origin is None:
            raise _missing_origin()
    if origin is not None and not is_trusted(origin, trusted):
        raise _invalid_origin()


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
_ENCODED_PATH_SEPARATOR = re.compile("%2[fF]|%5[cC]")


def is_allowed_callback(url: str, trusted: frozenset[str]) -> bool:
    """Safe relative paths are allowed (better-auth's isSafeRelativeURL: no `//`, backslash, control character
    or encoded slash in the path); absolute URLs must point at a trusted origin and, in genvid, hold no
    control character either (it would end up in a Location header)."""
    if _CONTROL_CHARACTER.search(url):
        return False
    if url.startswith("/"):
        path = re.split("[?#]", url, maxsplit=1)[0]
        return not url.startswith("//") and "\\" not in url and not _ENCODED_PATH_SEPARATOR.search(path)
    return is_trusted(url, trusted)


def check_callbacks(values: Mapping[str, Any], trusted: frozenset[str]) -> None:
    """403 INVALID_CALLBACK_URL (and its siblings) for an untrusted absolute callbackURL/redirectTo/..."""
    for key, code, message in _CALLBACK_KEYS:
        value = values.get(key)
        if isinstance(value, str) and value and not is_allowed_callback(value, trusted):
            raise BetterAuthError(403, message, code)
