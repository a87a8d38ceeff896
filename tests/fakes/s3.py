"""A local S3 on loopback: moto's server mode, a real HTTP server speaking S3's wire format.

genvid's production client (boto3, genvid/videos/s3_media.py) reaches it through the standard environment
that `environment()` returns (AWS_ENDPOINT_URL_S3 and test credentials). `stop()` closes the port, so the
store is unreachable (connection refused) until `start()` serves again on the same port; moto keeps the
buckets in this process meanwhile.

Standalone, for the deploy rehearsal and benchmarks (genvid runs in other processes):
`python -m tests.fakes.s3 --port 0 --bucket genvid-media` prints the endpoint URL, then serves until killed.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "fake-access-key"
SECRET_ACCESS_KEY = "fake-secret-key"
REGION = "us-east-1"


class FakeS3:
    """moto's S3 on 127.0.0.1; port 0 picks a free port on the first start and keeps it afterwards."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Serve (again, on the same port after stop()); returns the endpoint URL."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)   # one line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self.port = server.get_host_and_port()[1]
        self._server = server
        return self.endpoint

    def stop(self) -> None:
        """Close the listening port: every request now fails to connect."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The store is unreachable inside the block, and serves again (same port, same data) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def environment(self) -> dict[str, str]:
        """What a process needs to use this store through boto3's standard environment."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "AWS_REGION": REGION, "AWS_ENDPOINT_URL_S3": self.endpoint,
                "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self) -> Any:
        """A boto3 client of its own, for arranging buckets and asserting what landed in them."""
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY)

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under prefix, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, with the given buckets created."""
    parser = argparse.ArgumentParser(description="A local S3 (moto) for benchmarks and deploy rehearsals.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", action="append", default=[])
    args = parser.parse_args(argv)
    fake = FakeS3(args.port)
    fake.start()
    for bucket in args.bucket:
        fake.create_bucket(bucket)
    print(fake.endpoint, flush=True)
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stopped.wait()
    fake.stop()


if __name__ == "__main__":
    main()
