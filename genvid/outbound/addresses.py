"""Where genvid may send a webhook (server-side request forgery rules).

Always: an absolute http(s) URL with a host, no user:password part, no fragment, no spaces or control
characters, at most 2,000 characters.
In production also: https only, and every address the host resolves to must be public: not private,
loopback, link-local (cloud metadata at 169.254.169.254 included), shared (100.64/10), multicast, reserved or
unspecified; an IPv4-mapped or NAT64 IPv6 address is judged by the IPv4 address inside it. The rules hold at
registration and again at every delivery, and a delivery connects to the very address that was checked, so a
DNS answer that changes in between (rebinding) cannot turn it inward.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefused(ValueError):
    """The URL may not receive webhooks; the message says why, for the user."""


@dataclass(frozen=True)
class Target:
    """A checked URL, split the way a request needs it."""

    scheme: str
    host: str                 # the host name or IP literal, without brackets
    port: int
    path: str                 # path and query, at least "/"


def parse(url: str, *, production: bool) -> Target:
    """The URL as a Target, or UrlRefused (no network access here)."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in url):
        # urlsplit would quietly drop some of these (leading controls, tabs, newlines): refuse rather than
        # guess.
        raise UrlRefused("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"The URL is malformed ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("The URL must be an absolute http:// or https:// URL.")
    if production and scheme != "https":
        raise UrlRefused("Webhook URLs must use https://.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("The URL must not contain a user name or password.")
    if parts.fragment:
        raise UrlRefused("The URL must not contain a #fragment.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80),
                  path=path)


def is_public(address: str) -> bool:
    """True for an address on the public internet."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def resolve(target: Target, *, production: bool) -> list[str]:
    """The addresses to connect to, in the resolver's order; UrlRefused when the host does not resolve or, in
    production, when any of its addresses is not public (one bad answer is enough to refuse)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UrlRefused(f"The host {target.host} does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if production:
        blocked = [address for address in addresses if not is_public(address)]
        if blocked:
            raise UrlRefused(f"The host {target.host} resolves to a non-public address ({blocked[0]}).")
    return addresses


def check(url: str, *, production: bool) -> Target:
    """Registration's check: the URL rules, and in production the addresses too."""
    target = parse(url, production=production)
    if production:
        resolve(target, production=True)
    return target
