"""The video API: validation, pricing and the debit, listing, user isolation, cancel and delete."""
from __future__ import annotations

from typing import Any

import pytest
from fakes.heygen import FakeHeyGen
from videos_fixtures import Studio

from genvid.cursors import encode_cursor
from genvid.videos import pricing


def _ledger(studio: Studio, video_id: str) -> list[tuple[str, int]]:
    return [(row[0], int(row[1])) for row in studio.conn.execute(
        "SELECT reason, delta FROM credit_ledger WHERE reference = %s ORDER BY id", (video_id,))]


@pytest.mark.parametrize(("script", "credits"), [
    ("a", 1),
    ("x" * 450, 1),
    ("x" * 451, 2),
    ("x" * 5000, 12),
    ("Hello 👋🏽 world 🎬", 1),
    ("مرحبا بالعالم، هذا فيديو تجريبي", 1),
    ("line one\nline two\twith a tab", 1),
])
def test_accepted_scripts_are_priced_by_the_documented_rule(heygen_studio: Studio, script: str,
                                                           credits: int) -> None:
    """1 credit per started 30 s of speech at 15 characters a second, minimum 1; debited with the insert."""
    user_id, headers = heygen_studio.user(credits=20)
    response = heygen_studio.create(headers, script=script)
    assert response.status_code == 202, response.get_json()
    video = response.get_json()["data"]
    assert video["script"] == script
    assert video["credits"] == credits == pricing.render_credits(script)
    assert heygen_studio.balance(user_id) == 20 - credits
    assert _ledger(heygen_studio, video["id"]) == [("render", -credits)]


@pytest.mark.parametrize(("script", "field_message"), [
    ("", "at least 1 character"),
    ("x" * 5001, "at most 5000 characters"),
    ("   \n\t ", "something to say"),
    ("bell\x07", "control characters"),
    ("carriage\r\nreturn", "control characters"),
    ("nul\x00byte", "U+0000"),                    # refused for every field (PostgreSQL cannot store it)
    ("escape \x1b[31m red", "control characters"),
    ("delete\x7f", "control characters"),
])
def test_rejected_scripts_change_nothing(heygen_studio: Studio, script: str, field_message: str) -> None:
    """Empty, too long, blank or control characters: 422 on the script field, no video, no debit."""
    user_id, headers = heygen_studio.user(credits=20)
    response = heygen_studio.create(headers, script=script)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == ["script"]
    assert field_message in error["details"][0]["message"]
    assert heygen_studio.balance(user_id) == 20
    assert heygen_studio.conn.execute("SELECT count(*) FROM videos").fetchone() == (0,)


@pytest.mark.parametrize(("fields", "field"), [
    ({"avatar_id": "no-such-look"}, "avatar_id"),
    ({"voice_id": "no-such-voice"}, "voice_id"),
    ({"aspect_ratio": "2:1"}, "aspect_ratio"),
    ({"resolution": "8k"}, "resolution"),
    ({"background": "red"}, "background"),
    ({"captions": "yes"}, "captions"),
    ({"title": "two\nlines"}, "title"),
    ({"unknown": 1}, "unknown"),
])
def test_every_field_is_validated(heygen_studio: Studio, fields: dict[str, Any], field: str) -> None:
    user_id, headers = heygen_studio.user(credits=5)
    response = heygen_studio.create(headers, **fields)
    assert response.status_code == 422, response.get_json()
    assert field in [d["field"] for d in response.get_json()["error"]["details"]]
    assert heygen_studio.balance(user_id) == 5


def test_optional_fields_reach_the_provider(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """title, aspect ratio, resolution, background and captions are sent in HeyGen v3's shape."""
    _, headers = heygen_studio.user()
    video = heygen_studio.create(headers, title="Launch", aspect_ratio="9:16", resolution="1080p",
                                 background="#112233", captions=True).get_json()["data"]
    heygen_studio.drive(video["id"])
    (sent,) = [v.body for v in fake_heygen.videos.values()]
    assert sent["type"] == "avatar" and sent["title"] == "Launch"
    assert sent["aspect_ratio"] == "9:16" and sent["resolution"] == "1080p"
    assert sent["background"] == {"type": "color", "value": "#112233"}
    assert sent["caption"]["file_format"] == "srt"
    assert sent["callback_id"] == video["id"]


def test_retired_avatars_cannot_be_rendered(heygen_studio: Studio, fake_heygen: FakeHeyGen) -> None:
    """An avatar gone upstream is retired by the next sync (kept in the table) and refused by POST."""
    _, headers = heygen_studio.user()
    gone = fake_heygen.looks.pop(0)["id"]
    heygen_studio.advance(86400)                  # the next day's sync
    result = heygen_studio.sync_catalogue()
    assert result.retired_avatars == 1
    assert heygen_studio.conn.execute("SELECT retired_at IS NOT NULL FROM avatars WHERE provider_id = %s",
                                      (gone,)).fetchone() == (True,)
    response = heygen_studio.create(headers, avatar_id=gone)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "avatar_id"


def test_insufficient_credits_is_402_and_creates_nothing(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user(credits=1)
    response = heygen_studio.create(headers, script="x" * 1000)     # 3 credits
    assert response.status_code == 402
    assert response.get_json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert heygen_studio.balance(user_id) == 1
    assert heygen_studio.conn.execute("SELECT count(*) FROM videos").fetchone() == (0,)
    assert heygen_studio.run_worker() >= 0 and heygen_studio.conn.execute(
        "SELECT count(*) FROM credit_ledger WHERE reason LIKE 'render%'").fetchone() == (0,)


def test_signed_out_requests_are_401(heygen_studio: Studio) -> None:
    for method, path in (("get", "/api/videos"), ("post", "/api/videos"), ("get", "/api/avatars"),
                         ("get", "/api/voices"), ("get", "/api/videos/x"), ("delete", "/api/videos/x")):
        response = getattr(heygen_studio.client, method)(path, json={} if method == "post" else None)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "UNAUTHORIZED"


def test_idempotency_key_replays_the_first_video(heygen_studio: Studio) -> None:
    """A client retrying POST with the same Idempotency-Key gets the same video and pays once."""
    user_id, headers = heygen_studio.user(credits=5)
    first = heygen_studio.create(headers, extra_headers={"Idempotency-Key": "retry-1"})
    second = heygen_studio.create(headers, extra_headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == second.status_code == 202
    assert first.get_json()["data"]["id"] == second.get_json()["data"]["id"]
    assert heygen_studio.balance(user_id) == 4


def test_users_see_only_their_own_videos(heygen_studio: Studio) -> None:
    """Another user's video is a 404 for show, events and delete, and absent from the list."""
    _, alice = heygen_studio.user()
    _, bob = heygen_studio.user()
    video_id = heygen_studio.create(alice).get_json()["data"]["id"]
    for method, path in (("get", f"/api/videos/{video_id}"), ("get", f"/api/videos/{video_id}/events"),
                         ("delete", f"/api/videos/{video_id}")):
        with getattr(heygen_studio.client, method)(path, headers=bob) as response:
            assert response.status_code == 404
            assert response.get_json()["error"]["code"] == "VIDEO_NOT_FOUND"
    assert heygen_studio.client.get("/api/videos", headers=bob).get_json()["data"] == []
    assert heygen_studio.video(video_id).status.value == "queued"


def test_list_is_newest_first_with_keyset_pagination_and_status_filter(heygen_studio: Studio,
                                                                       fake_heygen: FakeHeyGen) -> None:
    _, headers = heygen_studio.user(credits=20)
    ids = []
    for n in range(5):
        ids.append(heygen_studio.create(headers, script=f"Video {n}").get_json()["data"]["id"])
        heygen_studio.advance(1)         # one a second: creation order is the clock's order
    fake_heygen.fail_next_render()
    heygen_studio.drive(ids[0])          # the first created video fails (its render is scripted to)
    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = heygen_studio.client.get(f"/api/videos?{query}", headers=headers).get_json()
        assert len(body["data"]) <= 2
        seen += [video["id"] for video in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    failed = heygen_studio.client.get("/api/videos?status=failed", headers=headers).get_json()["data"]
    assert [video["id"] for video in failed] == [ids[0]]
    bad = heygen_studio.client.get("/api/videos?cursor=nonsense", headers=headers)
    assert bad.status_code == 422
    well_formed_but_not_a_date = encode_cursor("yesterday", ids[0])
    forged = heygen_studio.client.get(f"/api/videos?cursor={well_formed_but_not_a_date}", headers=headers)
    assert forged.status_code == 422 and forged.get_json()["error"]["details"][0]["field"] == "cursor"
    assert heygen_studio.client.get("/api/videos?status=lost", headers=headers).status_code == 422


def test_deleting_a_queued_video_cancels_and_refunds_it(heygen_studio: Studio,
                                                        fake_heygen: FakeHeyGen) -> None:
    """Not yet submitted: cancelled, refunded once, and the worker never submits it."""
    user_id, headers = heygen_studio.user(credits=5)
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    response = heygen_studio.client.delete(f"/api/videos/{video_id}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["data"] == {"id": video_id, "cancelled": True, "deleted": False,
                                           "refunded_credits": 1}
    heygen_studio.run_worker()
    assert heygen_studio.video(video_id).status.value == "cancelled"
    assert fake_heygen.route_calls["create"] == 0
    assert heygen_studio.balance(user_id) == 5
    # A second DELETE removes the cancelled record; no second refund.
    again = heygen_studio.client.delete(f"/api/videos/{video_id}", headers=headers).get_json()["data"]
    assert again["deleted"] is True and again["refunded_credits"] == 0
    assert heygen_studio.balance(user_id) == 5
    assert heygen_studio.client.get(f"/api/videos/{video_id}", headers=headers).status_code == 404


def test_deleting_a_completed_video_removes_record_and_media(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user(credits=5)
    video_id = heygen_studio.create(headers).get_json()["data"]["id"]
    heygen_studio.drive(video_id)
    shown = heygen_studio.client.get(f"/api/videos/{video_id}", headers=headers).get_json()["data"]
    assert heygen_studio.client.get(shown["video_url"]).status_code == 200
    response = heygen_studio.client.delete(f"/api/videos/{video_id}", headers=headers).get_json()["data"]
    assert response == {"id": video_id, "cancelled": False, "deleted": True, "refunded_credits": 0}
    assert heygen_studio.client.get(f"/api/videos/{video_id}", headers=headers).status_code == 404
    assert heygen_studio.client.get(shown["video_url"]).status_code == 404
    assert heygen_studio.balance(user_id) == 4
