"""HeyGen fixtures: a fake HeyGen v3 server per test and the production client pointed at it."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.heygen import FakeHeyGen

from genvid.videos.heygen import HeyGenProvider


@pytest.fixture
def fake_heygen() -> Iterator[FakeHeyGen]:
    """A running fake HeyGen (renders finish at once; set .render_seconds, or .advance() its clock)."""
    fake = FakeHeyGen()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def heygen_provider(fake_heygen: FakeHeyGen) -> Iterator[HeyGenProvider]:
    """The production HeyGenProvider talking to the fake; the timeout is generous, so that only a request the
    fake holds (fake_heygen.hold_next()) ever reaches it, however busy the machine."""
    provider = HeyGenProvider(fake_heygen.api_key, fake_heygen.base_url, timeout=10.0)
    yield provider
    provider.close()


@pytest.fixture
def heygen_overrides(fake_heygen: FakeHeyGen) -> dict[str, Any]:
    """Config overrides that make an app render through the fake: make_app(**heygen_overrides)."""
    return {"video_provider": "heygen", "heygen_api_key": fake_heygen.api_key,
            "heygen_api_base": fake_heygen.base_url}
