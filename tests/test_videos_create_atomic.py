"""POST /api/videos is one statement (insert, ledger entry, balance) and nothing else: what it guarantees
under concurrency and on replays, and that the render is left to the workers' dispatcher."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from videos_fixtures import Studio


def _post_concurrently(studio: Studio, headers: dict[str, str], count: int, **extra: str) -> list[Any]:
    """count POSTs at once, each from its own test client (thread)."""
    avatar_id, voice_id = studio.first_ids()
    body = {"avatar_id": avatar_id, "voice_id": voice_id, "script": "Hello from genvid."}
    clients = [studio.app.test_client() for _ in range(count)]
    with ThreadPoolExecutor(count) as pool:
        return list(
            pool.map(lambda c: c.post("/api/videos", json=body, headers={**headers, **extra}), clients))


def _render_debits(studio: Studio, user_id: str) -> int:
    row = studio.conn.execute("SELECT count(*) FROM credit_ledger WHERE user_id = %s AND reason = 'render'",
                              (user_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_concurrent_creates_never_overdraw(local_studio: Studio) -> None:
    """Ten creates at once on five credits: five videos and five debits, five 402s, a zero balance."""
    user_id, headers = local_studio.user(credits=5)
    responses = _post_concurrently(local_studio, headers, 10)
    assert sorted(r.status_code for r in responses) == [202] * 5 + [402] * 5
    assert local_studio.balance(user_id) == 0
    assert _render_debits(local_studio, user_id) == 5
    assert local_studio.conn.execute("SELECT count(*) FROM videos WHERE user_id = %s",
                                     (user_id,)).fetchone() == (5,)


def test_concurrent_retries_with_one_idempotency_key_make_one_video_and_one_debit(
        local_studio: Studio) -> None:
    """Eight copies of one request sent at once with the same Idempotency-Key all answer the same video."""
    user_id, headers = local_studio.user(credits=5)
    responses = _post_concurrently(local_studio, headers, 8, **{"Idempotency-Key": "same-click"})
    assert {r.status_code for r in responses} == {202}
    assert len({r.get_json()["data"]["id"] for r in responses}) == 1
    assert local_studio.balance(user_id) == 4
    assert _render_debits(local_studio, user_id) == 1


def test_a_replay_answers_the_first_video_even_when_the_balance_no_longer_covers_it(
        local_studio: Studio) -> None:
    """The retry of a paid create is not a new purchase: 202 with the first video, nothing taken."""
    user_id, headers = local_studio.user(credits=1)
    first = local_studio.create(headers, extra_headers={"Idempotency-Key": "k-1"})
    again = local_studio.create(headers, extra_headers={"Idempotency-Key": "k-1"})
    other = local_studio.create(headers, extra_headers={"Idempotency-Key": "k-2"})
    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 402)
    assert again.get_json()["data"]["id"] == first.get_json()["data"]["id"]
    assert local_studio.balance(user_id) == 0


def test_an_unknown_avatar_is_422_before_the_balance_is_looked_at(local_studio: Studio) -> None:
    """A broke user sending a bad avatar learns about the avatar
    (as before the create became one statement)."""
    _, headers = local_studio.user(credits=0)
    response = local_studio.create(headers, avatar_id="no_such_avatar")
    assert response.status_code == 422
    assert [d["field"] for d in response.get_json()["error"]["details"]] == ["avatar_id"]


def test_a_create_writes_the_database_only_and_the_dispatcher_starts_the_render(
        local_studio: Studio, redis_client: redis.Redis) -> None:
    """The create commits a row due at once and touches no queue; the next dispatch (a worker's loop, within a
    second) enqueues its render."""
    _, headers = local_studio.user(credits=5)
    response = local_studio.create(headers)
    assert response.status_code == 202
    video = local_studio.video(response.get_json()["data"]["id"])
    assert video.status.value == "queued" and video.next_check_at == video.created_at == local_studio.clock()
    assert redis_client.dbsize() == 0
    (row,) = local_studio.drive(video.id)
    assert row.status.value == "completed"
