"""The responses /api/auth sends, shaped as better-auth's: JSON bodies with its cookies and plugin headers."""
from __future__ import annotations

import json
from typing import Any

from flask import Response

from genvid.auth import cookies
from genvid.auth.context import settings
from genvid.http.cors import EXPOSE


def json_response(body: Any, status: int = 200, *, set_cookies: list[str] | None = None,
                  session_token: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Set-Cookie headers and the bearer plugin's header.

    session_token becomes set-auth-token (signed), named in Access-Control-Expose-Headers, as better-auth's
    bearer plugin does on every response carrying it, Origin or not (genvid.http.cors joins that with
    flask-cors's list into one header for a trusted origin). (get-session, which also sends the jwt plugin's
    set-auth-jwt, is answered by genvid.auth.get_session.) The body is encoded here, compact and with
    non-ASCII kept, whatever the app's JSON provider settings (debug included).
    """
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text + "\n", status, mimetype="application/json")
    for header in set_cookies or ():
        response.headers.add("Set-Cookie", header)
    if session_token is not None:
        response.headers["set-auth-token"] = cookies.signed_value(settings().secret, session_token)
        response.headers[EXPOSE] = "set-auth-token"
    response.headers.update(headers or {})
    return response


def session_cookie_response(body: Any, *, token: str, remember: bool, status: int = 200) -> Response:
    """A JSON response that sets the session cookie (and set-auth-token)."""
    return json_response(body, status, set_cookies=settings().jar.session_headers(token, remember=remember),
                         session_token=token)


def redirect_response(location: str) -> Response:
    """A 302 as better-call sends it: Location, an empty body, and (still) a JSON content type."""
    response = Response(b"", status=302, content_type="application/json")
    response.headers["Location"] = location
    return response


def redirect_with_cookies(location: str, *, set_cookies: list[str],
                          session_token: str | None = None) -> Response:
    """A better-call redirect (302, empty body, JSON content type) that also sets cookies; with session_token,
    the bearer plugin's set-auth-token and its Access-Control-Expose-Headers, as on every session response."""
    response = redirect_response(location)
    for header in set_cookies:
        response.headers.add("Set-Cookie", header)
    if session_token is not None:
        response.headers["set-auth-token"] = cookies.signed_value(settings().secret, session_token)
        response.headers[EXPOSE] = "set-auth-token"
    return response
