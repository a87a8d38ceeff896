"""MediaStorage on S3-compatible object storage, selected by MEDIA_STORAGE_URL=s3://bucket[/prefix].

AWS S3, Cloudflare R2, MinIO and Heroku add-ons such as Bucketeer speak this API. genvid reads no credential
itself: boto3 takes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL_S3 (every
store but AWS) from the environment, and its retry settings (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE) too.

The rules:
- Uploads go through boto3's transfer manager: a file above MULTIPART_THRESHOLD goes up as a multipart
  upload in parallel parts, each part retried on its own by boto3; a failed multipart upload is aborted, so an
  object appears whole or not at all.
- Reads never touch the store: locate() signs a GET URL locally (no round trip), so a store that is down can
  not make a read fail inside genvid; the player fetches from the store, which answers Range itself.
- Every failure to reach the store, or refusal by it, is media.StorageUnavailable: the render job retries
  its upload later (genvid/videos/jobs.py), a deletion leaves the objects to the daily orphan pruning.
"""
from __future__ import annotations

import mimetypes
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from genvid.videos.media_store import Presigned, StorageUnavailable, valid_key

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 8 * MIB      # boto3's own default, spelled out: above it, parts of MULTIPART_CHUNK
MULTIPART_CHUNK = 8 * MIB
DELETE_BATCH = 1000                # DeleteObjects takes at most 1000 keys
CACHE_CONTROL = "private, max-age=300"

# Fail fast on a dead endpoint (boto3 waits 60 s to connect by default); a part may take a while to send.
_CLIENT_CONFIG = BotoConfig(signature_version="s3v4", connect_timeout=5, read_timeout=60)
_TRANSFER = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK,
                           max_concurrency=4)
_STORE_ERRORS = (BotoCoreError, ClientError, Boto3Error)


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of s3://bucket[/prefix] (Config has validated the form)."""
    parts = urlsplit(url)
    return parts.netloc, parts.path.strip("/")


class S3Storage:
    """MediaStorage on one bucket, every key under an optional prefix."""

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _object_key(self, key: str) -> str:
        if not valid_key(key):
            raise ValueError(f"invalid media key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def staging_file(self, suffix: str) -> Path:
        # This process's own temporary directory (TMPDIR): nothing is shared with other processes.
        fd, name = tempfile.mkstemp(prefix="genvid-media-", suffix=suffix)
        os.close(fd)
        return Path(name)

    def save(self, key: str, source: Path) -> None:
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        try:
            self.client.upload_file(str(source), self.bucket, self._object_key(key), Config=_TRANSFER,
                                    ExtraArgs={"ContentType": content_type, "CacheControl": CACHE_CONTROL})
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"could not upload {key}: {_reason(exc)}") from exc
        source.unlink(missing_ok=True)

    def locate(self, key: str, *, expires_in: int) -> Presigned | None:
        if not valid_key(key):
            return None
        try:
            url = self.client.generate_presigned_url(
                "get_object", ExpiresIn=expires_in,
                Params={"Bucket": self.bucket, "Key": self._object_key(key),
                        "ResponseCacheControl": CACHE_CONTROL})
        except _STORE_ERRORS as exc:   # no credentials: signing needs no network, but it needs keys
            raise StorageUnavailable(f"could not sign a link to {key}: {_reason(exc)}") from exc
        return Presigned(url)

    def delete_prefix(self, prefix: str) -> None:
        folder = self._object_key(prefix.rstrip("/")) + "/"
        try:
            keys = [item["Key"] for page in self._pages(Prefix=folder) for item in page.get("Contents", ())]
            for start in range(0, len(keys), DELETE_BATCH):
                batch = keys[start:start + DELETE_BATCH]
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
                if answer.get("Errors"):
                    raise StorageUnavailable(
                        f"could not delete {len(answer['Errors'])} objects under {prefix}")
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"could not delete {prefix}: {_reason(exc)}") from exc

    def children(self, prefix: str) -> list[str]:
        folder = self._object_key(prefix.rstrip("/")) + "/"
        try:
            names = [common["Prefix"][len(folder):].rstrip("/")
                     for page in self._pages(Prefix=folder, Delimiter="/")
                     for common in page.get("CommonPrefixes", ())]
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"could not list {prefix}: {_reason(exc)}") from exc
        return sorted(names)

    def _pages(self, **params: str) -> Iterator[dict[str, Any]]:
        yield from self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **params)


def _reason(exc: Exception) -> str:
    """A short reason: the S3 error code, or the exception (botocore's messages name the endpoint,
    never keys)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return f"{type(exc).__name__}: {exc}"[:300]


_lock = threading.Lock()
_stores: dict[tuple[int, str], S3Storage] = {}


def storage(url: str) -> S3Storage:
    """The S3Storage for url, one per process (boto3 clients are thread-safe but costly to build, and a
    forked child must not share its parent's connections)."""
    key = (os.getpid(), url)
    with _lock:
        store = _stores.get(key)
        if store is None:
            bucket, prefix = parse_url(url)
            # A Session of its own: creating clients from boto3's shared default session is not thread-safe.
            client = boto3.session.Session().client("s3", config=_CLIENT_CONFIG)
            store = _stores[key] = S3Storage(bucket, prefix, client)
    return store
