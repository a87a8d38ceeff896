"""Fairness under the concurrency cap: one user's big batch never starves another user's video. The dispatcher
admits queued videos as slots free, taking each user's in turn (genvid/videos/dispatcher.py); these tests
drive the pipeline clock through whole renders and measure who got each slot."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from batch_helpers import create_json, people
from fakes.heygen import FakeHeyGen
from videos_fixtures import Studio

from genvid.videos import dispatcher

RENDER_SECONDS = 90


@pytest.fixture
def capped(make_heygen_studio: Callable[..., Studio], fake_heygen: FakeHeyGen) -> Studio:
    """Renders through the fake HeyGen, two at a time (HEYGEN_MAX_CONCURRENT=2), each taking 90 s upstream."""
    studio = make_heygen_studio(heygen_max_concurrent=2)
    fake_heygen.render_seconds = RENDER_SECONDS
    return studio


def _tick(studio: Studio) -> None:
    """What the worker's loop does on its next tick (half a second after the jobs ran, 0 s on the pipeline
    clock): admit queued videos into the slots the jobs just freed. Observations are made after it."""
    dispatcher.dispatch_due(now=studio.clock(), redispatch_seconds=60, max_in_flight=2)


def _in_flight(studio: Studio, user_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM videos WHERE user_id = %s AND status IN ('submitting', "
                              "'rendering')", (user_id,)).fetchone()
    assert row is not None
    return int(row[0])


def _waiting(studio: Studio, user_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM videos WHERE user_id = %s AND status = 'queued'",
                              (user_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_another_users_single_video_starts_within_one_render_slots_wait(capped: Studio) -> None:
    """User A's 30-row batch holds both slots with 28 rows waiting when user B asks for one video. B's video
    takes the first slot that frees: it waits no longer than the nearest of A's renders takes to finish, and
    none of A's waiting rows starts before it."""
    a_id, a_headers = capped.user(credits=100)
    _, b_headers = capped.user(credits=10)
    batch_id = create_json(capped, a_headers, people(30)).get_json()["data"]["id"]
    capped.run_worker()
    assert _in_flight(capped, a_id) == 2 and _waiting(capped, a_id) == 28
    capped.advance(20)   # B arrives while A's renders are part-way through
    asked_at = capped.clock()
    b_video = capped.create(b_headers, script="Just one video, please.").get_json()["data"]["id"]
    assert capped.drive_until(lambda: capped.video(b_video).status.value != "queued")
    started_at = capped.video(b_video).submitted_at
    assert started_at is not None
    first_slot_freed = capped.conn.execute(
        "SELECT min(finished_at) FROM videos WHERE batch_id = %s AND finished_at >= %s", (batch_id, asked_at),
    ).fetchone()
    assert first_slot_freed is not None and first_slot_freed[0] is not None
    overtaken_by = capped.conn.execute(          # A's rows that started while B's video waited
        "SELECT count(*) FROM videos WHERE batch_id = %s AND submitted_at > %s AND submitted_at < %s",
        (batch_id, asked_at, started_at)).fetchone()
    assert overtaken_by is not None
    waited = (started_at - asked_at).total_seconds()
    slot_wait = (first_slot_freed[0] - asked_at).total_seconds()
    print(
        f"\nfairness: B's video waited {waited:.0f} s for a slot; the first of A's renders to finish freed "
        f"one "
        f"after {slot_wait:.0f} s (A's render: {RENDER_SECONDS} s upstream, checked every 30 s); "
        f"A rows started meanwhile: {overtaken_by[0]}")
    assert waited == slot_wait          # the very moment the first slot freed (the worker's next tick)
    assert overtaken_by[0] == 0


def test_two_users_batches_share_the_slots_evenly(capped: Studio) -> None:
    """A's 8-row batch, then B's 8-row batch a moment later, two slots: whenever both have rows waiting, each
    holds one slot; both batches finish, every row rendered once."""
    a_id, a_headers = capped.user(credits=100)
    b_id, b_headers = capped.user(credits=100)
    a_batch = create_json(capped, a_headers, people(8)).get_json()["data"]["id"]
    capped.advance(1)
    b_batch = create_json(capped, b_headers, people(8)).get_json()["data"]["id"]
    shares: list[tuple[int, int]] = []

    def observe() -> None:
        _tick(capped)
        if _waiting(capped, a_id) and _waiting(capped, b_id):
            shares.append((_in_flight(capped, a_id), _in_flight(capped, b_id)))

    ids = [row[0] for row in capped.conn.execute("SELECT id FROM videos WHERE batch_id IN (%s, %s)",
                                                 (a_batch, b_batch)).fetchall()]
    capped.drive(*ids, max_steps=400, between=observe)
    assert shares and all(share == (1, 1) for share in shares), shares
    assert capped.heygen is not None and capped.heygen.renders_created == 16
    for batch_id, headers in ((a_batch, a_headers), (b_batch, b_headers)):
        batch = capped.client.get(f"/api/batches/{batch_id}", headers=headers).get_json()["data"]
        assert batch["status"] == "finished" and batch["counts"]["completed"] == 8


def test_the_cap_holds_and_a_lone_batch_uses_every_slot(capped: Studio) -> None:
    """Fairness never idles a slot: alone, a batch renders two at a time, never three, to the end."""
    user_id, headers = capped.user(credits=100)
    batch_id = create_json(capped, headers, people(6)).get_json()["data"]["id"]
    seen: list[tuple[int, int]] = []
    ids = [row[0] for row in capped.conn.execute("SELECT id FROM videos WHERE batch_id = %s",
                                                 (batch_id,)).fetchall()]

    def observe() -> None:
        _tick(capped)
        seen.append((_in_flight(capped, user_id), _waiting(capped, user_id)))

    started = capped.clock()
    capped.drive(*ids, max_steps=200, between=observe)
    assert max(in_flight for in_flight, _ in seen) == 2
    assert all(in_flight == 2 for in_flight, waiting in seen if waiting), seen
    # Three rounds of two renders: each round is one render's time rounded up to the 30 s status checks.
    assert capped.clock() - started <= timedelta(seconds=3 * (RENDER_SECONDS + 2 * 33))
