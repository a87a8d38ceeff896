"""A browser for the social sign-in tests: keeps cookies, follows the redirect dance by hand (every hop
recorded), and normalises what it saw so that genvid's and better-auth's answers compare key for key."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from auth_fixtures import TRUSTED_ORIGIN
from conftest import TEST_SECRET

from genvid.auth import cookies

ID = re.compile(r"^[A-Za-z0-9]{32}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
VOLATILE_PARAMS = {"state", "code", "code_challenge", "nonce"}


@dataclass
class Browser:
    """One person's browser: a cookie jar (cookies ignore ports, so two servers on 127.0.0.1 share it)."""

    api: str                                            # http://127.0.0.1:port/api/auth
    hosts: dict[str, str] = field(default_factory=dict)   # provider origin -> where its fake listens
    session: requests.Session = field(default_factory=requests.Session)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.api + path, json=body, headers={"Origin": TRUSTED_ORIGIN},
                                 allow_redirects=False, timeout=20)

    def get(self, path: str, **params: str) -> requests.Response:
        return self.session.get(self.api + path, params=params, allow_redirects=False, timeout=20)

    def visit(self, url: str) -> requests.Response:
        """A top-level navigation (the provider's pages go to its fake)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self.hosts:
            url = self.hosts[origin] + url[len(origin):]
        return self.session.get(url, allow_redirects=False, timeout=20)

    def consent(self, start: requests.Response) -> requests.Response:
        """From a sign-in/link answer to the provider's redirect back (not yet followed)."""
        return self.visit(start.json()["url"])


class Normaliser:
    """Volatile values become stable placeholders: ids, dates, tokens, states, server and provider origins."""

    def __init__(self, origins: dict[str, str], replacements: dict[str, str] | None = None) -> None:
        self.origins = origins          # real origin -> label
        # run-specific text (emails, provider subjects) -> placeholder
        self.replacements = replacements or {}
        self.names: dict[str, str] = {}

    def _name(self, kind: str, value: str) -> str:
        if value not in self.names:
            self.names[value] = f"<{kind}{len(self.names) + 1}>"
        return self.names[value]

    def url(self, url: str) -> str:
        for origin, label in self.origins.items():
            if url.startswith(origin):
                url = label + url[len(origin):]
        if "?" not in url:
            return url
        head, _, query = url.partition("?")
        pairs = [f"{k}={'<' + k + '>' if k in VOLATILE_PARAMS else self.url(v)}"
                 for k, v in parse_qsl(query, keep_blank_values=True)]
        return head + "?" + "&".join(pairs)

    def cookie(self, header: str) -> str:
        pair, _, attributes = header.partition("; ")
        name, _, value = pair.partition("=")
        if value:
            inner = cookies.verify_signed(TEST_SECRET, value)
            value = "<signed>" if inner and cookies.encode_cookie_value(
                cookies.signed_value(TEST_SECRET, inner)) \
                == value else f"<BAD:{value}>"
        return f"{name}={value}; {attributes}"

    def value(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: "<nonce>" if k == "nonce" else self.value(v) for k, v in value.items()}
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in self.replacements:
            return self.replacements[str(value)]
        if isinstance(value, str):
            for text, placeholder in self.replacements.items():
                value = value.replace(text, placeholder)
            if ID.match(value):
                return self._name("id", value)
            if DATE.match(value):
                return "<date>"
            if value.startswith(("at-", "rt-")):
                return f"<{value[:2]}>"
            if value.startswith("eyJ"):
                return "<jwt>"
            if value.startswith(("http://", "https://")):
                return self.url(value)
        if isinstance(value, int) and not isinstance(value, bool) and value > 1_000_000_000:
            return "<epoch>"
        return value

    def response(self, response: requests.Response) -> dict[str, Any]:
        body: Any = response.text
        if response.headers.get("Content-Type", "").startswith("application/json") and response.text:
            body = response.json()
        out = {"status": response.status_code, "body": self.value(body),
               "content-type": (response.headers.get("Content-Type") or "").split(";")[0],
               "cookies": [self.cookie(c) for c in response.raw.headers.getlist("Set-Cookie")]}
        if "Location" in response.headers:
            out["location"] = self.url(response.headers["Location"])
        if "set-auth-token" in response.headers:
            out["set-auth-token"] = "<present>"
        return out
