"""GET /api/auth/get-session: its whole answer in one place, and served before Flask when it can be.

Every client asks get-session on every page load, and better-auth's clients poll it: it is the request genvid
answers most, held to cost at most 1/0.8 of a bare Flask app doing the same lookup (bench/auth.py,
bench/auth_instructions.py). What makes it cheap is here:

* `answer()` is the endpoint: the session, its user and the JWT signing key in one round trip
  (GetSessionUserAndSigningKey), a refresh once the session is a day old (better-auth's updateAge), a JWT in
  set-auth-jwt and the `{"session", "user"}` body. Two values are remembered per process, each a pure function
  of its key: the JWT per (key, second, issuer, user row), as Ed25519 signatures are deterministic and `iat`
  has one-second resolution, and the encoded body per (session row, user row). A polling client costs neither
  a signature nor seven date formats until a row changes; the keys hold every column of the rows, so nothing
  either value shows can change without changing its key.
* `FastPath` answers before Flask: a WSGI wrapper inside genvid.http.middleware's RequestLifecycle (so every
  answer still gets its request id, security headers and access line) that serves a GET of exactly this path
  with no Origin header and no body. Everything else goes on to Flask, whose view in routes.py returns the
  same `answer()`, and where flask-cors adds its headers for a trusted Origin. Errors (PostgreSQL down, the
  rate limit) are answered by the app's own error handlers, in a request context as Flask would give them.
  Browsers send Origin with a GET only cross-origin, so genvid's own pages, apps and servers take this path.

Measured by bench/auth_instructions.py (user-space instructions per get-session; the baseline is
bench/auth_baseline.py, Flask + psycopg_pool running the same query):
    as a Flask view, with nine speed-ups spread over cors, logs, middleware, responses, serialize,
    and the query:                               genvid 789k, baseline 644k: baseline/genvid 0.82x
    this module, those speed-ups backed out:     genvid 510k, baseline 646k: baseline/genvid 1.27x
    without the JWT memo +639k a request, without the body memo +152k.
"""
from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from urllib.parse import parse_qsl

from flask import Flask

from db import models
from genvid import clock
from genvid.auth import context, cookies, jwts, ratelimit, sessions
from genvid.auth.serialize import session_json, user_json
from genvid.http.cors import EXPOSE
from genvid.infra import database, redis_client

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/api/auth/get-session"
RATE_LIMIT_PATH = "/get-session"           # the path below /api/auth, as blueprint.guard counts it
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))     # on every get-session answer
NULL_BODY = b"null\n"

V = TypeVar("V")


class Answer(NamedTuple):
    """A 200 answer: the JSON body and every header but Content-Length."""

    body: bytes
    headers: list[tuple[str, str]]


def answer(environ: WSGIEnvironment, auth: context.AuthSettings, *, now: datetime) -> Answer:
    """get-session for the request with this WSGI environ: the session and user with a JWT in set-auth-jwt, or
    null (and the cookies cleared when a token was presented that is not live)."""
    state, token = context.read_presented_token(environ, auth)
    headers = [("Content-Type", "application/json")]
    found = None
    # One pool checkout in autocommit: the lookup is one round trip, a refresh or an expired row's deletion
    # one statement that needs no transaction.
    with database.connection() as conn:
        if state is context.Presented.TOKEN and token:
            found = sessions.find_session_and_signing_key(conn, token=token, now=now)
        if found is not None:
            active, stored_key = found
            session = active.session
            exposed = "set-auth-jwt"
            if (sessions.is_due_for_refresh(session, now=now) and not _refresh_disabled(environ)
                    and context.remembers_in(environ, auth)):
                session = sessions.refresh_session(conn, session=session, now=now)
                headers += [("Set-Cookie", header) for header in auth.jar.session_headers(session.token,
                                                                                          remember=True)]
                headers.append(("set-auth-token", cookies.signed_value(auth.secret, session.token)))
                exposed = "set-auth-token, set-auth-jwt"
            kid, key = jwts.signing_key(conn, sealing=auth.key_sealing, now=now, known=stored_key)
    if found is None:
        if state is context.Presented.TOKEN:
            headers += [("Set-Cookie", header) for header in auth.jar.clearing_headers()]
        return Answer(NULL_BODY, [*headers, *NO_STORE])
    user = active.user
    issuer, iat = auth.issuer, int(now.timestamp())
    token_jwt = _jwts.value_for((kid, iat, issuer, _user_row(user)),
                                lambda: jwts.encode(user, kid=kid, key=key, issuer=issuer, iat=iat))
    body = _bodies.value_for((_session_row(session), _user_row(user)), lambda: _encoded_body(session, user))
    # Every value here is safe in a header as it is: the JWT is base64url and dots, the cookies are
    # URL-encoded, and the session token is one the client has just sent in a header.
    return Answer(body, [*headers, (EXPOSE, exposed), *NO_STORE, ("set-auth-jwt", token_jwt)])


def _refresh_disabled(environ: WSGIEnvironment) -> bool:
    """?disableRefresh=true (the first value counts, as request.args.get reads it)."""
    query = environ.get("QUERY_STRING")
    if not query:
        return False
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "disableRefresh":
            return value == "true"
    return False


def _encoded_body(session: models.Session, user: models.User) -> bytes:
    text = json.dumps({"session": session_json(session), "user": user_json(user)}, ensure_ascii=False,
                      separators=(",", ":"))
    return (text + "\n").encode()


class FastPath:
    """WSGI wrapper around the Flask app: answers the plain get-session itself (see the top of the module)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not _served_here(environ):
            return self.wsgi_app(environ, start_response)
        try:
            with self.app.app_context():
                auth = context.settings()
                if auth.rate_limit:
                    ratelimit.hit(redis_client.connection(), ip=context.client_ip_in(environ, auth),
                                  path=RATE_LIMIT_PATH)
                reply = answer(environ, auth, now=clock.now())
        except Exception as error:      # noqa: BLE001  (each goes to the app's error handlers)
            return self._answer_error(environ, start_response, error)
        start_response("200 OK", [*reply.headers, ("Content-Length", str(len(reply.body)))])
        return [reply.body]

    def _answer_error(self, environ: WSGIEnvironment, start_response: StartResponse,
                      error: Exception) -> Iterable[bytes]:
        """The app's error handlers answer error, as Flask's own dispatch would. Called from the except clause
        that caught it: handle_user_exception re-raises what no handler takes, for handle_exception."""
        with self.app.request_context(environ):
            try:
                response = self.app.finalize_request(self.app.handle_user_exception(error))
            except Exception as unhandled:      # noqa: BLE001  (what Flask's wsgi_app catches, too)
                response = self.app.handle_exception(unhandled)
        return response(environ, start_response)


def _served_here(environ: WSGIEnvironment) -> bool:
    """A GET of exactly PATH with no Origin (no CORS headers to add) and no body (no size to refuse)."""
    return (environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET"
            and "HTTP_ORIGIN" not in environ and environ.get("CONTENT_LENGTH") in (None, "", "0")
            and "HTTP_TRANSFER_ENCODING" not in environ)


def init_app(app: Flask) -> None:
    """Serve get-session before Flask. Call it before genvid.http.middleware.init_app, whose RequestLifecycle
    must wrap this too (request id, security headers and access line on every answer)."""
    app.wsgi_app = FastPath(app, app.wsgi_app)  # type: ignore[method-assign]


class _Memo(Generic[V]):
    """value_for(key, compute): compute() once per key. Bounded: when full it forgets everything, and the next
    caller of each key computes it again."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._values: dict[Hashable, V] = {}
        self._max_entries = max_entries

    def value_for(self, key: Hashable, compute: Callable[[], V]) -> V:
        value = self._values.get(key)
        if value is None:
            value = compute()
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = value
        return value


def _row_of(model: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving every column value of a row object, as a tuple (a memo key)."""
    return operator.attrgetter(*(field.name for field in dataclasses.fields(model)))


_session_row = _row_of(models.Session)
_user_row = _row_of(models.User)
_jwts: _Memo[str] = _Memo()
_bodies: _Memo[bytes] = _Memo()
