"""Durable media: the store this process uses (its disk implementation under MEDIA_DIR), and signed URLs.

Provider URLs are presigned and expire, so finished media is copied into our store at completion: files under
MEDIA_DIR (development, one machine), or S3-compatible object storage when MEDIA_STORAGE_URL is set
(genvid/videos/s3_media.py; any deploy whose web and worker processes share no disk). The API hands out
short-lived links signed with HMAC-SHA256 (a key derived from BETTER_AUTH_SECRET), so a link can be given
to a <video> tag without a session and stops working after a few minutes. Behind a link, a disk store's file
is sent by genvid (with Range); an object store's is a redirect to a presigned GET, so the bytes and Range
come from the store and never occupy a web process.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import shutil
import tempfile
from pathlib import Path

from genvid.config import Config
from genvid.videos.media_store import (  # the interface every store implements; re-exported here
    LocalFile,
    MediaStorage,
    Presigned,
    StorageUnavailable,
    valid_key,
)

__all__ = ["LocalFile", "MediaStorage", "Presigned", "StorageUnavailable", "valid_key"]

log = logging.getLogger("genvid.videos.media")

LINK_TTL_SECONDS = 900


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
        """The file holding key, or None when it does not exist."""
        if not valid_key(key):
            return None
        path = self._path(key)
        return path if path.is_file() else None

    def locate(self, key: str, *, expires_in: int) -> LocalFile | None:
        path = self.local_path(key)
        return None if path is None else LocalFile(path)

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file():
            path.unlink(missing_ok=True)

    def children(self, prefix: str) -> list[str]:
        path = self._path(prefix.rstrip("/"))
        return sorted(child.name for child in path.iterdir() if child.is_dir()) if path.is_dir() else []


def storage_for(config: Config) -> MediaStorage:
    """The configured store: S3-compatible object storage when MEDIA_STORAGE_URL is set, else MEDIA_DIR."""
    if config.media_storage_url:
        # Imported here (no cycle: s3_media needs only media_store): boto3 and its client take a quarter of a
        # second to load, and only object storage needs them.
        from genvid.videos import s3_media
        return s3_media.storage(config.media_storage_url)
    return DiskStorage(config.media_dir)


def warn_if_media_on_local_disk(config: Config) -> bool:
    """At a process's start: one warning when production keeps media on this machine's disk.

    A production deploy runs at least a web and a worker process (the Procfile); they share a disk only when
    they run on one machine, which genvid cannot know. On Heroku, or any deploy with more than one machine,
    finished videos would 404 on other machines and vanish with a restart."""
    if not config.is_production or config.media_storage_url:
        return False
    log.warning("MEDIA_STORAGE_URL is not set: finished videos are kept on this machine's disk (MEDIA_DIR). "
                "Web and worker processes on other machines (every Heroku dyno) cannot read them, and a "
                "restart of this machine may erase them. Set MEDIA_STORAGE_URL=s3://bucket[/prefix].",
                extra={"media_dir": config.media_dir})
    return True


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
    # compare_digest refuses str with non-ASCII characters (TypeError); a signature is hex, so such is
    # invalid.
    if not given.isascii() or not hmac.compare_digest(signature(key, expires, secret=secret), given.lower()):
        return "invalid"
    if now > expires:
        return "expired"
    return None
