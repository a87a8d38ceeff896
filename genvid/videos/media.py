"""Durable media: a small storage interface, its disk implementation under MEDIA_DIR, and signed URLs.

Provider URLs are presigned and expire, so finished media is copied here at completion. The API hands out
short-lived links signed with HMAC-SHA256 (a key derived from BETTER_AUTH_SECRET), so a link can be given
to a <video> tag without a session and stops working after a few minutes. An S3-compatible store would
implement MediaStorage with presigned GETs instead of local_path().
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

LINK_TTL_SECONDS = 900
_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*(\.[A-Za-z0-9]+)?$")


class MediaStorage(Protocol):
    """Where finished videos and thumbnails live."""

    def staging_file(self, suffix: str) -> Path:
        """A fresh temporary file to download into (same device as the store, so saving is a rename)."""
        ...

    def save(self, key: str, source: Path) -> None:
        """Move source into the store under key, atomically replacing what was there."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file holding key, or None when it does not exist."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under prefix (a video's folder)."""
        ...

    def children(self, prefix: str) -> list[str]:
        """Names of the folders directly under prefix (video ids under "videos")."""
        ...


def valid_key(key: str) -> bool:
    """True for keys genvid writes: slash-separated safe segments, no '..', no absolute paths."""
    return bool(_KEY.match(key)) and len(key) <= 300


class DiskStorage:
    """MediaStorage on a local directory (MEDIA_DIR)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError(f"invalid media key {key!r}")
        return self.root / key

    def staging_file(self, suffix: str) -> Path:
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(suffix=suffix, dir=staging)
        os.close(fd)
        return Path(name)

    def save(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def local_path(self, key: str) -> Path | None:
        if not valid_key(key):
            return None
        path = self._path(key)
        return path if path.is_file() else None

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file():
            path.unlink(missing_ok=True)

    def children(self, prefix: str) -> list[str]:
        path = self._path(prefix.rstrip("/"))
        return sorted(child.name for child in path.iterdir() if child.is_dir()) if path.is_dir() else []


def storage_for(media_dir: str) -> MediaStorage:
    """The configured store (disk under MEDIA_DIR)."""
    return DiskStorage(media_dir)


VIDEOS_PREFIX = "videos"


def video_prefix(video_id: str) -> str:
    """The folder holding one video's media."""
    return f"{VIDEOS_PREFIX}/{video_id}"


def _signing_key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"genvid media links v1", hashlib.sha256).digest()


def signature(key: str, expires: int, *, secret: str) -> str:
    """The signature of a link to key valid until the unix time expires."""
    message = f"{key}\n{expires}".encode()
    return hmac.new(_signing_key(secret), message, hashlib.sha256).hexdigest()


def sign(key: str, *, now: float, secret: str, ttl: int = LINK_TTL_SECONDS) -> tuple[int, str]:
    """(expires, signature) for a link to key valid for ttl seconds from now."""
    expires = int(now) + ttl
    return expires, signature(key, expires, secret=secret)


def check_signature(key: str, expires: int, given: str, *, now: float, secret: str) -> str | None:
    """None when the link is genuine and current, else why not ("expired" or "invalid")."""
    if not hmac.compare_digest(signature(key, expires, secret=secret), given.lower()):
        return "invalid"
    if now > expires:
        return "expired"
    return None
