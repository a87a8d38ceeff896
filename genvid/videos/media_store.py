"""The media store's interface, which every store implements (genvid.videos.media's disk store,
genvid.videos.s3_media's object store): the Protocol, where a reader finds a file, the keys genvid
writes."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*(\.[A-Za-z0-9]+)?$")


class StorageUnavailable(Exception):
    """The media store could not be reached or refused the request (the operation may be retried)."""


@dataclass(frozen=True)
class LocalFile:
    """Media that genvid serves itself, from this file."""

    path: Path


@dataclass(frozen=True)
class Presigned:
    """Media that the store serves: a presigned GET URL, valid for a few minutes."""

    url: str


class MediaStorage(Protocol):
    """Where finished videos and thumbnails live. Network failures raise StorageUnavailable."""

    def staging_file(self, suffix: str) -> Path:
        """A fresh temporary file to download into (for disk, on the store's device so saving is a rename)."""
        ...

    def save(self, key: str, source: Path) -> None:
        """Move source into the store under key, atomically replacing what was there."""
        ...

    def locate(self, key: str, *, expires_in: int) -> LocalFile | Presigned | None:
        """Where a reader gets key: a local file, a presigned URL valid expires_in seconds, or None when the
        key is invalid or (where the store can tell without a round trip) does not exist."""
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
