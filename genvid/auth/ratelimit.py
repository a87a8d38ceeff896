"""better-auth's rate limits (spec section 10), counted in Redis so every web process shares them.

A fixed window per (client IP, path): the first request of a window starts a key with the window's TTL,
each request increments it, and past the rule's maximum the answer is 429 with `X-Retry-After` = seconds
left in the window. One round trip per request (a pipeline of SET NX EX, INCR, PTTL).
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

import redis

from genvid.errors import BetterAuthError

KEY_PREFIX = "genvid:auth:ratelimit:"


@dataclass(frozen=True)
class Rule:
    """At most `max` requests per `window` seconds."""

    window: int
    max: int


DEFAULT_RULE = Rule(window=10, max=100)
_SPECIAL_RULES: tuple[tuple[str, Rule], ...] = (
    ("/sign-in", Rule(10, 3)),
    ("/sign-up", Rule(10, 3)),
    ("/change-password", Rule(10, 3)),
    ("/change-email", Rule(10, 3)),
    ("/request-password-reset", Rule(60, 3)),
    ("/send-verification-email", Rule(60, 3)),
    ("/forget-password", Rule(60, 3)),
)


def rule_for(path: str) -> Rule:
    """The rule for a path relative to /api/auth."""
    for prefix, rule in _SPECIAL_RULES:
        if path.startswith(prefix):
            return rule
    return DEFAULT_RULE


def client_ip(forwarded_for: str | None, *, trusted_proxy_count: int) -> str:
    """The client address from X-Forwarded-For: the entry the nearest trusted proxy saw, '' when unknown.

    Each proxy appends the address it received from, so with N trusted proxies the client is the N-th entry
    from the right; entries further left were written by the client and cannot be trusted.
    """
    if not forwarded_for or trusted_proxy_count < 1:
        return ""
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if len(entries) < trusted_proxy_count:
        return ""
    candidate = entries[-trusted_proxy_count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return ""


def hit(client: redis.Redis, *, ip: str, path: str) -> None:
    """Count one request; raise 429 (with X-Retry-After) once the rule's maximum is passed."""
    rule = rule_for(path)
    key = f"{KEY_PREFIX}{ip}|{path}"
    pipe = client.pipeline(transaction=False)
    pipe.set(key, 0, ex=rule.window, nx=True)     # starts the window (SET NX EX works on Redis 6 too)
    pipe.incr(key)                                # INCR keeps the key's TTL
    pipe.pttl(key)
    _, count, pttl = pipe.execute()
    if int(count) > rule.max:
        retry_after = max(math.ceil(int(pttl) / 1000), 1)      # whole seconds, rounded up as better-auth does
        raise BetterAuthError(429, "Too many requests. Please try again later.", None,
                              headers={"X-Retry-After": str(retry_after)})
