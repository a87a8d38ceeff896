"""Heroku's Key-Value Store speaks TLS only, with a self-signed certificate: REDIS_URL=rediss://... must work
for the client, the queues (the dispatcher's batch enqueue included) and the worker. Proved against Debian's
redis-server listening with TLS only, on a certificate no client can verify (self-signed, for another host
name)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from rq import Queue
from servers import tls_redis

from genvid.infra import redis_client
from genvid.worker import GenvidWorker


def job_over_tls(value: int) -> int:
    """An RQ job: its return value comes back through Redis."""
    return value * 2


@pytest.fixture(scope="module")
def rediss_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with tls_redis(tmp_path_factory.mktemp("tls-redis")) as url:
        yield url


def test_rediss_url_connects_despite_the_self_signed_certificate(rediss_url: str) -> None:
    client = redis_client.connect(rediss_url)
    try:
        assert client.ping()
        client.set("genvid:tls-check", "ok", ex=60)
        assert client.get("genvid:tls-check") == b"ok"
        assert client.connection_pool.connection_class is redis.SSLConnection
    finally:
        client.close()


def test_the_server_really_demands_tls_and_its_certificate_really_is_unverifiable(rediss_url: str) -> None:
    """So the test above passes because of genvid's TLS settings, not because nothing was checked."""
    plain = redis.Redis.from_url(rediss_url.replace("rediss://", "redis://", 1), socket_timeout=3,
                                 socket_connect_timeout=3)
    with pytest.raises(redis.ConnectionError):
        plain.ping()
    verifying = redis.Redis.from_url(rediss_url, ssl_cert_reqs="required", socket_timeout=3,
                                     socket_connect_timeout=3)
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        verifying.ping()


def test_queues_and_worker_run_over_tls(rediss_url: str) -> None:
    """genvid's production worker (in-process jobs) runs a job queued alone and jobs queued as the dispatcher
    queues them (enqueue_many, one MULTI), all over rediss://."""
    try:
        previous: str | None = redis_client.configured_url()
    except RuntimeError:
        previous = None
    redis_client.configure(rediss_url)
    try:
        renders = redis_client.get_queue("renders")
        alone = renders.enqueue(job_over_tls, 21)
        batch = renders.enqueue_many([Queue.prepare_data(job_over_tls, args=(n,)) for n in (1, 2)])
        worker = GenvidWorker([renders], connection=redis_client.connection())
        worker.work(burst=True, logging_level="WARNING")
        assert alone.return_value(refresh=True) == 42
        assert [job.return_value(refresh=True) for job in batch] == [2, 4]
    finally:
        redis_client.connection().flushdb()
        if previous is not None:
            redis_client.configure(previous)
