"""One webhook POST, within limits: a total time limit (connect, send, answer, read), at most max_bytes of
the answer read, no redirect followed (a 3xx is just a failed attempt), the address checked by
genvid.outbound.addresses and connected to directly. The standard library's http.client over a socket
genvid opened itself is what allows all four: a client that resolves and connects on its own would check
one address and reach another.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from genvid.outbound import addresses

EXCERPT_BYTES = 1024
USER_AGENT = "genvid-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the HTTP status (None when no answer came), or why not, how long the
    answer took, and the start of its body."""

    status_code: int | None
    error: str | None
    latency_ms: int
    excerpt: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float, max_bytes: int,
         production: bool) -> Outcome:
    """POST body to url; never raises for anything the receiver or the network does."""
    started = time.monotonic()
    deadline = started + timeout
    status: int | None = None
    latency: int | None = None
    sock: socket.socket | None = None
    data = b""
    try:
        target = addresses.parse(url, production=production)
        sock = _connect(target, addresses.resolve(target, production=production), deadline)
        connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = sock                     # already connected: http.client sends on it as it is
        connection.request("POST", target.path, body=body, headers={
            "content-type": "application/json", "user-agent": USER_AGENT, **headers})
        sock.settimeout(_left(deadline))
        response = connection.getresponse()
        status, latency = response.status, _ms(started)
        while len(data) < max_bytes:
            sock.settimeout(_left(deadline))
            chunk = response.read1(min(65536, max_bytes - len(data)))
            if not chunk:
                break
            data += chunk
        error = None
    except addresses.UrlRefused as exc:
        error = f"refused: {exc}"
    except TimeoutError:
        error = "timeout" if status is None else "timeout while reading the answer"
    except ssl.SSLError as exc:
        error = f"TLS failed: {exc.reason or exc}"
    except http.client.HTTPException as exc:
        error = f"not an HTTP answer: {type(exc).__name__}"
    except OSError as exc:
        error = f"connection failed: {exc.strerror or exc}"
    finally:
        if sock is not None:
            sock.close()
    return Outcome(status_code=status, error=error,
                   latency_ms=latency if latency is not None else _ms(started),
                   excerpt=data[:EXCERPT_BYTES].decode("utf-8", errors="replace"))


def _connect(target: addresses.Target, candidates: list[str], deadline: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers, wrapped in TLS for https."""
    failure: OSError = OSError("no address")
    for address in candidates:
        try:
            sock = socket.create_connection((address, target.port), timeout=_left(deadline))
        except TimeoutError:
            raise
        except OSError as exc:
            failure = exc
            continue
        if target.scheme == "https":
            try:
                sock.settimeout(_left(deadline))
                return ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
            except BaseException:
                sock.close()
                raise
        return sock
    raise failure


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError()
    return left


def _ms(since: float) -> int:
    return round((time.monotonic() - since) * 1000)
