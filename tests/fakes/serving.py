"""HTTP servers in a thread of the test process: genvid's app under werkzeug, these fakes of outside services,
webhook receivers. One place that starts them on loopback and stops them promptly."""
from __future__ import annotations

import socketserver
import threading
from typing import Any

from werkzeug.serving import make_server

# How often serve_forever looks for shutdown(). Python's default (0.5 s) made every test that stops a server
# wait up to half a second for it, more than a second in tests with three servers.
POLL_SECONDS = 0.02


class ThreadedServer:
    """server served by a daemon thread until stop(); its handlers run in daemon threads too, so a request
    still held open (a fake's injected delay) never keeps the test process alive."""

    def __init__(self, server: socketserver.BaseServer, *, name: str = "test-server") -> None:
        self.server = server
        if isinstance(server, socketserver.ThreadingMixIn):
            server.daemon_threads = True
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                        daemon=True, name=name)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=10)
        self.server.server_close()


def serve_wsgi(app: Any, port: int = 0, *, name: str = "test-server") -> ThreadedServer:
    """app (any WSGI callable) served over HTTP on 127.0.0.1:port (0: a free one), a thread per request."""
    return ThreadedServer(make_server("127.0.0.1", port, app, threaded=True), name=name)
