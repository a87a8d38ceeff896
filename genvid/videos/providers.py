"""Which VideoProvider this process renders with: VIDEO_PROVIDER=local|heygen (local when no HEYGEN_API_KEY).

One instance per process and configuration, so the HeyGen client's HTTP connections are reused by every
job a worker runs.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from genvid.config import Config
from genvid.videos.provider_contract import VideoProvider

if TYPE_CHECKING:
    from genvid.videos.local import LocalProvider

_lock = threading.Lock()
_cache: dict[tuple[object, ...], VideoProvider] = {}


def get_provider(config: Config) -> VideoProvider:
    """The provider config selects (cached per process)."""
    key = (os.getpid(), config.video_provider, config.heygen_api_key, config.heygen_api_base,
           config.media_dir,
           config.heygen_timeout_seconds, config.data_dir, config.local_render_height, config.local_speech)
    with _lock:
        provider = _cache.get(key)
        if provider is None:
            provider = _build(config)
            _cache[key] = provider
    return provider


def local_provider(config: Config) -> LocalProvider | None:
    """The offline renderer when config selects it (it also draws avatar previews and voice samples)."""
    from genvid.videos.local import LocalProvider
    provider = get_provider(config)
    return provider if isinstance(provider, LocalProvider) else None


def _build(config: Config) -> VideoProvider:
    if config.video_provider == "heygen":
        from genvid.videos.heygen import HeyGenProvider
        return HeyGenProvider(config.heygen_api_key or "", config.heygen_api_base,
                              timeout=config.heygen_timeout_seconds)
    from genvid.videos.local import LocalProvider
    return LocalProvider(config)
