"""Object storage fixtures: moto's S3 server on loopback for the whole session, a fresh bucket per test, and
a Studio whose app keeps media there (MEDIA_STORAGE_URL), rendering through the fake HeyGen."""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from fakes.heygen import FakeHeyGen
from fakes.s3 import FakeS3
from flask import Flask
from videos_fixtures import Studio


@pytest.fixture(scope="session")
def fake_s3() -> Iterator[FakeS3]:
    """A running local S3; boto3 in this process finds it through the standard AWS_* environment."""
    fake = FakeS3()
    fake.start()
    # Two attempts instead of boto3's five: an unreachable store fails in milliseconds, not seconds.
    environment = {**fake.environment(), "AWS_MAX_ATTEMPTS": "2"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    yield fake
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    fake.stop()


@pytest.fixture
def s3_bucket(fake_s3: FakeS3) -> str:
    """An empty bucket of this test's own."""
    name = f"genvid-test-{uuid.uuid4().hex[:12]}"
    fake_s3.create_bucket(name)
    return name


@pytest.fixture
def s3_app(make_heygen_app: Callable[..., Flask], s3_bucket: str) -> Flask:
    """An app rendering through the fake HeyGen and storing media in s3://<bucket>/media."""
    return make_heygen_app(heygen_webhook_secret="whsec_test_secret", media_storage_url=f"s3://{s3_bucket}/media")


@pytest.fixture
def s3_studio(s3_app: Flask, make_studio: Callable[..., Studio], fake_heygen: FakeHeyGen) -> Studio:
    """A Studio on s3_app with its catalogue synced from the fake HeyGen."""
    return make_studio(s3_app, fake_heygen)
