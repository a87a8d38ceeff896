"""A real SMTP server on loopback (aiosmtpd) keeping every message genvid sends: `Mailbox`, and the
`mailbox` fixture that runs one for a test. The auth mail flows, the webhook owner's mail and the browser
site use it."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from servers import free_port

LINK = re.compile(r"(http://\S+)")
# Generous: only a lost mail waits this long, whatever the machine's speed.
WAIT_SECONDS = 120.0


class Mailbox:
    """An SMTP server on 127.0.0.1 (`url`, for genvid's SMTP_URL) keeping every message it receives, in
    order. start() before use, stop() after (the `mailbox` fixture does both)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        # aiosmtpd's start() connects to its port, so it cannot be 0.
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_link(self, count: int = 1, timeout: float = WAIT_SECONDS) -> str:
        """The link in the count-th message received, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} mails arrived, not {count}")
            time.sleep(0.01)
        return _link_in(self.messages[count - 1])

    def link(self, to: str, subject_word: str, timeout: float = WAIT_SECONDS) -> str:
        """The link in the newest mail to `to` whose subject has subject_word, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if message["To"] == to and subject_word in message["Subject"]:
                    return _link_in(message)
            time.sleep(0.05)
        raise AssertionError(f"no mail about {subject_word!r} reached {to}")


def _link_in(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes), message
    found = LINK.search(payload.decode())
    assert found, message
    return found.group(1)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A running Mailbox for this test; make_app(smtp_url=mailbox.url) mails into it."""
    box = Mailbox()
    box.start()
    try:
        yield box
    finally:
        box.stop()
