"""The responses /api/auth sends, shaped as better-auth's: JSON bodies with its cookies and plugin headers."""
from __future__ import annotations

import json
from typing import Any

from flask import Response

from genvid.auth import cookies
from genvid.auth.context import settings
from genvid.auth.serialize import EncodedJSON
from genvid.http.cors import EXPOSE


def json_response(body: Any, status: int = 200, *, set_cookies: list[str] | None = None,
                  session_token: str | None = None, auth_jwt: str | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Set-Cookie headers and the bearer and jwt plugins' headers.

    session_token becomes set-auth-token (signed), auth_jwt becomes set-auth-jwt, and both are named in
    Access-Control-Expose-Headers, as better-auth's plugins do on every response carrying them, Origin or
    not (genvid.http.cors joins that with flask-cors's list into one header for a trusted origin). The body is
    serialised here rather than by flask.jsonify: auth bodies are plain JSON already, and get-session, the
    most frequent request of all, is measurably cheaper without the provider's dispatch.
    """
    fixed = list((headers or {}).items())
    exposed = []
    if session_token is not None:
        fixed.append(("set-auth-token", cookies.signed_value(settings().secret, session_token)))
        exposed.append("set-auth-token")
    if auth_jwt is not None:
        fixed.append(("set-auth-jwt", auth_jwt))
        exposed.append("set-auth-jwt")
    managed = [("Set-Cookie", header) for header in set_cookies or ()]
    if exposed:
        managed.append((EXPOSE, ", ".join(exposed)))
    text = body if isinstance(body, EncodedJSON) else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = _AuthJSONResponse(text + "\n", status, managed, mimetype="application/json")
    response.add_fixed_headers(fixed)
    return response


class _AuthJSONResponse(Response):
    """A Response whose fixed headers are checked once, by str methods, and appended to the WSGI header list.

    werkzeug scans each header value with a regular expression when it is set, then copies the headers and
    scans them again when the response is sent: on get-session (two no-store headers and a 700-character
    set-auth-jwt) that was ~10% of the request's instructions (callgrind). A name of letters, digits and
    dashes and an ASCII, printable value (no CR, LF or other control character) cannot split or end a
    header. After-request hooks do not see these; Set-Cookie, and Access-Control-Expose-Headers (which
    genvid.http.cors merges with flask-cors's), go through werkzeug as usual.
    """

    _fixed: tuple[tuple[str, str], ...] = ()

    def add_fixed_headers(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if not (name.replace("-", "").isalnum() and name.isascii() and value.isascii() and value.isprintable()):
                raise ValueError(f"header {name!r} needs a token name and an ASCII, printable value")
        self._fixed += tuple(headers)

    def get_wsgi_response(self, environ: dict[str, Any]) -> tuple[Any, str, list[tuple[str, str]]]:
        app_iter, status, headers = super().get_wsgi_response(environ)
        return app_iter, status, headers + list(self._fixed)


def session_cookie_response(body: Any, *, token: str, remember: bool, status: int = 200) -> Response:
    """A JSON response that sets the session cookie (and set-auth-token)."""
    return json_response(body, status, set_cookies=settings().jar.session_headers(token, remember=remember),
                         session_token=token)


def redirect_response(location: str) -> Response:
    """A 302 as better-call sends it: Location, an empty body, and (still) a JSON content type."""
    response = Response(b"", status=302, content_type="application/json")
    response.headers["Location"] = location
    return response


def redirect_with_cookies(location: str, *, set_cookies: list[str], session_token: str | None = None) -> Response:
    """A better-call redirect (302, empty body, JSON content type) that also sets cookies; with session_token,
    the bearer plugin's set-auth-token and its Access-Control-Expose-Headers, as on every session response."""
    response = redirect_response(location)
    for header in set_cookies:
        response.headers.add("Set-Cookie", header)
    if session_token is not None:
        response.headers["set-auth-token"] = cookies.signed_value(settings().secret, session_token)
        response.headers[EXPOSE] = "set-auth-token"
    return response
