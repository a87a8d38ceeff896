"""better-auth's rate limits (spec section 10), counted in Redis so every web process shares them.

A fixed window per (client IP, path): the first request of a window starts a key with the window's TTL,
each request increments it, and past the rule's maximum the answer is 429 with `X-Retry-After` = seconds
left in the window. One round trip per request (a pipeline of SET NX EX, INCR, PTTL).

When Redis cannot be reached the limiter cannot count, and the two kinds of rule fail differently. The strict
rules guard password guessing and mail bombing (sign-in, sign-up, password and email changes, reset and
verification mails): those requests are refused with 503 and Retry-After, since letting them through
uncounted is exactly what the rule exists to stop, and a signed-in user does not need them. The default rule
(100 per 10 s; get-session above all) guards nothing secret, and refusing it would sign every user out for as
long as Redis is away: it fails open, and the outage is logged (at most once per LOG_EVERY_SECONDS).
"""
from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

import redis

from genvid.errors import BetterAuthError

log = logging.getLogger("genvid.auth.ratelimit")

KEY_PREFIX = "genvid:auth:ratelimit:"
LOG_EVERY_SECONDS = 10.0
RETRY_AFTER_SECONDS = 2
UNAVAILABLE = ("This endpoint is rate limited and the limiter's store (Redis) is unavailable; "
               "try again shortly.")
_last_logged = 0.0


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
    """Count one request; raise 429 (with X-Retry-After) once the rule's maximum is passed. Without Redis:
    503 for a strict rule, let through (and logged) for the default one."""
    rule = rule_for(path)
    key = f"{KEY_PREFIX}{ip}|{path}"
    pipe = client.pipeline(transaction=False)
    pipe.set(key, 0, ex=rule.window, nx=True)     # starts the window (SET NX EX works on Redis 6 too)
    pipe.incr(key)                                # INCR keeps the key's TTL
    pipe.pttl(key)
    try:
        _, count, pttl = pipe.execute()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        _uncounted(rule, exc)
        return
    if int(count) > rule.max:
        retry_after = max(math.ceil(int(pttl) / 1000), 1)      # whole seconds, rounded up as better-auth does
        raise BetterAuthError(429, "Too many requests. Please try again later.", None,
                              headers={"X-Retry-After": str(retry_after)})


def _uncounted(rule: Rule, error: Exception) -> None:
    """Redis is unreachable: refuse a strict rule's request, let a default-rule one through (see the top)."""
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= LOG_EVERY_SECONDS:
        _last_logged = now
        log.warning("rate limiter unavailable: strict-rule requests are refused, the rest pass uncounted",
                    extra={"error_type": type(error).__name__})
    if rule is not DEFAULT_RULE:
        raise BetterAuthError(503, UNAVAILABLE, "SERVICE_UNAVAILABLE",
                              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
