"""A worker process SIGKILLed in the middle of a batch: another worker finishes the batch, every row rendered
once upstream, the batch charged once and nothing refunded. Real `genvid worker` processes against the fake
HeyGen; waits are on conditions with generous deadlines (tests/worker_processes.py)."""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from batch_helpers import create_json, ledger_rows, people, row_videos
from conftest import Services
from fakes.heygen import FakeHeyGen
from videos_fixtures import Studio
from worker_processes import WORKER_TUNING, kill, wait, worker_env, worker_processes

from genvid.config import Config

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

Workers = Callable[[], "subprocess.Popen[bytes]"]
ROWS = 8


@pytest.fixture
def workers(services: Services, config: Config, fake_heygen: FakeHeyGen, tmp_path: Path) -> Iterator[Workers]:
    """start() launches a `genvid worker` rendering through the fake HeyGen, three renders at a time."""
    env = worker_env(services, config, tmp_path, {**WORKER_TUNING, "heygen_max_concurrent": 3},
                     VIDEO_PROVIDER="heygen", HEYGEN_API_KEY=fake_heygen.api_key,
                     HEYGEN_API_BASE=fake_heygen.base_url)
    with worker_processes(env) as start:
        yield start


@pytest.fixture
def studio(make_heygen_studio: Callable[..., Studio]) -> Studio:
    return make_heygen_studio(heygen_max_concurrent=3)


def _statuses(studio: Studio, batch_id: str) -> list[str]:
    return [video.status for video in row_videos(studio, batch_id)]


def test_workers_killed_mid_batch_leave_the_batch_to_finish_exactly_once(
        studio: Studio, fake_heygen: FakeHeyGen, workers: Workers) -> None:
    """Two deaths by SIGKILL: the first worker while three rows render upstream and five wait; the second
    while the create request of the next row is in flight. A third worker finishes the batch: the orphaned
    create is replayed with the same Idempotency-Key (no second render), the waiting rows are admitted as
    slots free, and the batch ends with one debit for all its rows, no refund, and exactly one render upstream
    per row."""
    user_id, headers = studio.user(credits=50)
    fake_heygen.render_seconds = 10_000   # renders wait upstream until the test moves HeyGen's clock
    first = workers()
    batch_id = create_json(studio, headers, people(ROWS)).get_json()["data"]["id"]
    wait(lambda: _statuses(studio, batch_id).count("rendering") == 3, "three rows to be rendering")
    kill(first)
    assert sorted(_statuses(studio, batch_id)) == ["queued"] * 5 + ["rendering"] * 3

    release = fake_heygen.hold_next("create")           # the next row's create will hang upstream ...
    fake_heygen.advance(20_000)                         # ... once the three renders in flight are done
    second = workers()
    wait(lambda: fake_heygen.route_calls["create"] >= 4, "the fourth row's create request")
    kill(second)                                        # ... and its worker dies with it in flight
    release()
    wait(lambda: fake_heygen.renders_created == 4, "HeyGen to finish the orphaned create")
    assert "submitting" in _statuses(studio, batch_id)         # the row whose create was orphaned, at least

    fake_heygen.advance(20_000)                         # the orphaned render is done upstream too ...
    fake_heygen.render_seconds = 0                      # ... and the rest finish at once
    workers()
    wait(lambda: _statuses(studio, batch_id) == ["completed"] * ROWS, "every row to complete")
    assert fake_heygen.renders_created == ROWS
    assert ledger_rows(studio, user_id) == [(-ROWS, "batch", batch_id)]
    assert studio.balance(user_id) == 50 - ROWS
    batch = studio.client.get(f"/api/batches/{batch_id}", headers=headers).get_json()["data"]
    assert (batch["status"], batch["refunded_credits"], batch["counts"]["completed"]) == ("finished", 0, ROWS)
