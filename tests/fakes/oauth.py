"""Fake OAuth providers on loopback: an OpenID Connect provider (Google's paths, or any issuer with discovery)
and GitHub (OAuth 2 without OIDC), speaking the wire formats their clients use.

`FakeOIDC` serves discovery, an authorization endpoint that consents at once for `person` (or answers
`error=access_denied` when `deny` is set), a token endpoint (authorization_code with PKCE S256 and single-use
codes, refresh_token), userinfo and its JWKS; ID tokens are RS256 JWTs signed with joserfc, carrying the nonce
of the authorization request. With `issuer="https://accounts.google.com"` it is Google as better-auth's
built-in provider sees it (authorize at /o/oauth2/v2/auth, token at /token, certs at /oauth2/v3/certs).

`FakeGitHub` serves /login/oauth/authorize, /login/oauth/access_token (200 with an `error` body for a bad
code, as GitHub answers), /user and /user/emails.

Faults: `deny` (the person refuses consent), `token_status` (the token endpoint answers that HTTP status),
`slow` (seconds every endpoint waits first), `id_token_claims` (claims overriding those of issued ID tokens),
`sign_with` (a key other than the published one signs ID tokens).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.wrappers import Request, Response

from .serving import ThreadedServer, serve_wsgi

GOOGLE_ISSUER = "https://accounts.google.com"
_KEYS: list[RSAKey] = []


def _keys() -> list[RSAKey]:
    """Two RS256 keys per process (RSA key generation is slow): the published one and an attacker's."""
    while len(_KEYS) < 2:
        _KEYS.append(
            RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "alg": "RS256", "use": "sig"}))
    return _KEYS


def signing_key() -> RSAKey:
    """The key fakes publish and sign with."""
    return _keys()[0]


def other_key() -> RSAKey:
    """A key no fake publishes."""
    return _keys()[1]


@dataclass
class Person:
    """Who is signed in at the provider and consents."""

    sub: str = "1000001"
    email: str = "pat@example.com"
    email_verified: bool = True
    name: str = "Pat Doe"
    picture: str | None = "https://img.example/pat.png"
    login: str = "patdoe"              # GitHub only


@dataclass
class _Grant:
    person: Person
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    nonce: str | None


@dataclass
class _FakeServer:
    client_id: str = "fake-client-id"
    client_secret: str = "fake-client-secret"
    person: Person = field(default_factory=Person)
    deny: bool = False
    token_status: int | None = None
    slow: float = 0.0
    access_token_lifetime: int = 3600
    requests: list[tuple[str, str]] = field(default_factory=list)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, _Grant] = field(default_factory=dict)
    _server: ThreadedServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        assert self._server is not None
        return self._server.url

    def start(self) -> _FakeServer:
        self._server = serve_wsgi(self._wsgi, name="fake-oauth")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append((request.method, request.path))
        if self.slow:
            time.sleep(self.slow)
        response = self.route(request)
        return response(environ, start_response)

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    # -- shared OAuth 2 pieces
    # --------------------------------------------------------------------------------
    def _authorize(self, request: Request, scope_default: str = "") -> Response:
        args = request.args
        redirect_uri, state = args.get("redirect_uri", ""), args.get("state", "")
        if args.get("client_id") != self.client_id or not redirect_uri:
            return _json({"error": "invalid_request"}, 400)
        if self.deny:
            return _redirect(redirect_uri, error="access_denied", error_description="The user denied access",
                             state=state)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(person=self.person, client_id=self.client_id,
                                       redirect_uri=redirect_uri,
                                       scope=args.get("scope", scope_default), nonce=args.get("nonce"),
                                       challenge=args.get("code_challenge"))
        return _redirect(redirect_uri, code=code, state=state)

    def _client_ok(self, request: Request) -> bool:
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id, secret = request.authorization.username, request.authorization.password
        return client_id == self.client_id and secret == self.client_secret

    def _redeem(self, request: Request) -> _Grant | None:
        """The grant behind a valid authorization_code request (the code is gone afterwards), or None."""
        form = request.form
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return None
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
                b"=").decode()
            if digest != grant.challenge:
                return None
        return grant

    def _new_tokens(self, grant: _Grant, *, refresh: bool = True) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(18)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                "expires_in": self.access_token_lifetime, "scope": grant.scope}
        with self._lock:
            self._tokens[access] = grant
            if refresh:
                token = "rt-" + secrets.token_urlsafe(18)
                self._refresh[token] = grant
                body["refresh_token"] = token
        return body

    def _bearer(self, request: Request) -> _Grant | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self._tokens.get(token) if scheme.lower() == "bearer" else None



@dataclass
class FakeOIDC(_FakeServer):
    """An OpenID Connect provider; Google's when issuer is GOOGLE_ISSUER,
    else its own base URL is the issuer."""

    issuer: str | None = None
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None
    key: RSAKey = field(default_factory=signing_key)

    @property
    def iss(self) -> str:
        return self.issuer or self.base

    @property
    def discovery_url(self) -> str:
        return f"{self.base}/.well-known/openid-configuration"

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/.well-known/openid-configuration":
            return _json({"issuer": self.iss, "authorization_endpoint": f"{self.base}/o/oauth2/v2/auth",
                          "token_endpoint": f"{self.base}/token",
                          "userinfo_endpoint": f"{self.base}/v1/userinfo",
                          "jwks_uri": f"{self.base}/oauth2/v3/certs", "response_types_supported": ["code"],
                          "subject_types_supported": ["public"],
                          "id_token_signing_alg_values_supported": ["RS256"],
                          "code_challenge_methods_supported": ["S256"]})
        if path == "/oauth2/v3/certs":
            return _json(KeySet([self.key]).as_dict(private=False))
        if path == "/o/oauth2/v2/auth":
            return self._authorize(request, scope_default="openid")
        if path == "/token" and request.method == "POST":
            return self._token(request)
        if path == "/v1/userinfo":
            grant = self._bearer(request)
            if grant is None:
                return _json({"error": "invalid_token"}, 401)
            return _json(self._claims(grant.person))
        return _json({"error": "not_found"}, 404)

    def _token(self, request: Request) -> Response:
        if self.token_status is not None:
            return Response("<html>unavailable</html>", status=self.token_status, content_type="text/html")
        if not self._client_ok(request):
            return _json({"error": "invalid_client"}, 401)
        grant_type = request.form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._redeem(request)
            if grant is None:
                return _json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
            body = self._new_tokens(grant)
            if "openid" in grant.scope.split():
                body["id_token"] = self.id_token(grant.person, nonce=grant.nonce)
            return _json(body)
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._refresh.get(request.form.get("refresh_token", ""))
            if grant is None:
                return _json({"error": "invalid_grant"}, 400)
            body = self._new_tokens(grant, refresh=False)      # Google keeps the refresh token
            body["id_token"] = self.id_token(grant.person)
            return _json(body)
        return _json({"error": "unsupported_grant_type"}, 400)

    def _claims(self, person: Person) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": person.sub, "email": person.email,
                                  "email_verified": person.email_verified, "name": person.name}
        if person.picture:
            claims["picture"] = person.picture
        return claims

    def id_token(self, person: Person | None = None, *, nonce: str | None = None, key: RSAKey | None = None,
                 **overrides: Any) -> str:
        """An ID token for person as this provider signs it (overrides replace claims; None removes one)."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.iss, "aud": self.client_id, "azp": self.client_id, "iat": now,
                                  "exp": now + 3600, **self._claims(person or self.person)}
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_token_claims)
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        signer = key or self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid, "typ": "JWT"}, claims, signer)


@dataclass
class FakeGitHub(_FakeServer):
    """GitHub's OAuth app endpoints and the two REST calls a sign-in makes."""

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/login/oauth/authorize":
            return self._authorize(request)
        if path == "/login/oauth/access_token" and request.method == "POST":
            if self.token_status is not None:
                return Response("unavailable", status=self.token_status, content_type="text/plain")
            if not self._client_ok(request):
                return _json({"error": "incorrect_client_credentials"})
            grant = self._redeem(request)
            if grant is None:      # GitHub answers 200 with an error body
                return _json({"error": "bad_verification_code",
                              "error_description": "The code passed is incorrect or expired."})
            body = self._new_tokens(grant, refresh=False)
            body.pop("expires_in")                # classic OAuth app tokens do not expire
            body["token_type"] = "bearer"
            body["scope"] = ",".join(grant.scope.split())
            return _json(body)
        grant = self._bearer(request)
        if path in ("/user", "/user/emails") and grant is None:
            return _json({"message": "Bad credentials"}, 401)
        assert grant is not None
        person = grant.person
        if path == "/user":
            return _json({"login": person.login, "id": int(person.sub), "name": person.name, "email": None,
                          "avatar_url": person.picture})
        if path == "/user/emails":
            return _json([{"email": person.email, "primary": True, "verified": person.email_verified,
                           "visibility": "private"},
                          {"email": f"{person.login}@users.noreply.github.com", "primary": False,
                           "verified": True, "visibility": None}])
        return _json({"message": "Not Found"}, 404)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _redirect(uri: str, **params: str) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response("", status=302, headers={"Location": uri + separator + urlencode(params)})
