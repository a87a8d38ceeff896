"""The batch API: a batch is paid for whole or refused whole, a retried create makes one batch, progress and
results read back through the API and its event stream, and nobody sees another user's batches."""
from __future__ import annotations

import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor

from batch_helpers import (
    create_csv,
    create_json,
    csv_of,
    ledger_rows,
    people,
    row_videos,
    stored,
    template,
    video_ids,
)
from fakes.heygen import FakeHeyGen
from videos_fixtures import Studio, listen

from genvid.auth.apikeys import NewKey, create_api_key, options_from


def test_a_json_batch_is_one_debit_and_one_queued_video_per_row(heygen_studio: Studio) -> None:
    """202 with the batch and a Location; one ledger entry for the whole price; each row a queued video with
    its script and title filled in, numbered in order."""
    user_id, headers = heygen_studio.user(credits=10)
    batch_template = template(heygen_studio, title="For {{name}}", captions=True, aspect_ratio="9:16")
    answer = create_json(heygen_studio, headers, people(3), template=batch_template, name="Spring outreach")
    assert answer.status_code == 202, answer.get_json()
    batch = answer.get_json()["data"]
    assert answer.headers["Location"] == f"/api/batches/{batch['id']}"
    assert (batch["name"], batch["status"], batch["done"], batch["row_count"], batch["credits"]) == (
        "Spring outreach", "running", False, 3, 3)
    assert batch["counts"] == {"queued": 3, "submitting": 0, "rendering": 0, "completed": 0, "failed": 0,
                               "cancelled": 0, "deleted": 0}
    assert batch["template"]["script"] == batch_template["script"] and batch["template"]["captions"] is True
    assert ledger_rows(heygen_studio, user_id) == [(-3, "batch", batch["id"])]
    assert heygen_studio.balance(user_id) == 7
    videos = heygen_studio.conn.execute(
        "SELECT batch_row, script, title, status::text, aspect_ratio, captions, credits FROM videos "
        "WHERE batch_id = %s ORDER BY batch_row", (batch["id"],)).fetchall()
    assert videos == [
        (n, f"Hello Person {n}, welcome to Company {n}.", f"For Person {n}", "queued", "9:16", True, 1)
        for n in (1, 2, 3)]
    shown = heygen_studio.client.get(f"/api/videos/{video_ids(heygen_studio, batch['id'])[1]}",
                                     headers=headers)
    assert shown.get_json()["data"]["batch_id"] == batch["id"] and shown.get_json()["data"]["batch_row"] == 2


def test_a_batch_the_balance_does_not_cover_is_refused_whole(heygen_studio: Studio) -> None:
    """402 naming the price and the balance, and nothing written: no batch, no video, no ledger entry."""
    long_script = "A longer script for {{name}} at {{company}}. " + "Words to say. " * 40    # 2 credits a row
    user_id, headers = heygen_studio.user(credits=9)
    answer = create_json(heygen_studio, headers, people(5),
                         template=template(heygen_studio, script=long_script))
    assert answer.status_code == 402
    error = answer.get_json()["error"]
    assert error["code"] == "INSUFFICIENT_CREDITS" and error["details"] == {"credits": 10, "balance": 9}
    assert "10 credits" in error["message"]
    assert stored(heygen_studio, user_id) == (0, 0)
    assert ledger_rows(heygen_studio, user_id) == [] and heygen_studio.balance(user_id) == 9
    exactly = create_json(heygen_studio, headers, people(4),
                          template=template(heygen_studio, script=long_script))
    assert exactly.status_code == 202 and heygen_studio.balance(user_id) == 1


def test_preview_prices_without_writing_anything(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user(credits=2)
    answer = create_csv(heygen_studio, headers, csv_of(3), path="/api/batch-previews")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["data"] == {
        "row_count": 3, "credits": 3, "balance": 2, "enough_credits": False, "variables": ["name", "company"],
        "first_row": {"row": 1, "script": "Hello Person 1, welcome to Company 1.", "title": None,
                      "credits": 1}}
    assert stored(heygen_studio, user_id) == (0, 0) and heygen_studio.balance(user_id) == 2
    unknown_avatar = create_json(heygen_studio, headers, people(1), path="/api/batch-previews",
                                 template=template(heygen_studio, avatar_id="look_nobody"))
    assert unknown_avatar.status_code == 422
    assert [d["field"] for d in unknown_avatar.get_json()["error"]["details"]] == ["template.avatar_id"]


def test_an_unknown_avatar_is_422_and_charges_nothing(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user()
    answer = create_json(heygen_studio, headers, people(2), template=template(heygen_studio, voice_id="nope"))
    assert answer.status_code == 422
    assert answer.get_json()["error"]["details"] == [
        {"field": "template.voice_id", "message": "No such voice (see GET /api/voices)."}]
    assert stored(heygen_studio, user_id) == (0, 0) and heygen_studio.balance(user_id) == 100


def test_the_same_idempotency_key_creates_one_batch_even_when_sent_at_once(heygen_studio: Studio) -> None:
    """Sent again, the create answers with the first batch; sent five times at once,
    one batch is made and paid."""
    user_id, headers = heygen_studio.user(credits=50)
    first = create_csv(heygen_studio, headers, csv_of(4), key="retry-me-1")
    again = create_csv(heygen_studio, headers, csv_of(4), key="retry-me-1")
    assert first.status_code == again.status_code == 202
    assert first.get_json()["data"]["id"] == again.get_json()["data"]["id"]
    app = heygen_studio.app

    def send(_: int) -> str:
        studio = Studio(app, app.test_client(), heygen_studio.conn, heygen_studio.run_worker,
                        heygen_studio.clock)
        answer = create_json(studio, headers, people(3), key="all-at-once")
        assert answer.status_code == 202, answer.get_json()
        return str(answer.get_json()["data"]["id"])

    with ThreadPoolExecutor(5) as pool:
        ids = set(pool.map(send, range(5)))
    assert len(ids) == 1
    assert stored(heygen_studio, user_id) == (2, 7)
    assert [reason for _, reason, _ in ledger_rows(heygen_studio, user_id)] == ["batch", "batch"]
    assert heygen_studio.balance(user_id) == 50 - 4 - 3
    too_long = create_json(heygen_studio, headers, people(1), key="k" * 256)
    assert too_long.status_code == 400 and too_long.get_json()["error"]["code"] == "INVALID_IDEMPOTENCY_KEY"


def test_progress_results_and_the_csv_once_every_row_rendered(heygen_studio: Studio, fake_heygen: FakeHeyGen
                                                              ) -> None:
    """One row's render fails upstream and is refunded on its own; the others complete with media. The batch
    says so, and its results list each row's video, as JSON and as CSV."""
    user_id, headers = heygen_studio.user(credits=10)
    fake_heygen.fail_next_render("avatar_processing_failed", "The avatar could not be processed.")
    batch_id = create_json(heygen_studio, headers, people(3)).get_json()["data"]["id"]
    heygen_studio.drive(*video_ids(heygen_studio, batch_id))
    batch = heygen_studio.client.get(f"/api/batches/{batch_id}", headers=headers).get_json()["data"]
    assert (batch["status"], batch["done"], batch["refunded_credits"]) == ("finished", True, 1)
    assert batch["counts"]["completed"] == 2 and batch["counts"]["failed"] == 1
    assert batch["finished_at"] is not None
    assert heygen_studio.balance(user_id) == 10 - 3 + 1
    failed_row = next(row for row in row_videos(heygen_studio, batch_id) if row.status == "failed")
    assert (1, "render_refund", failed_row.id) in ledger_rows(heygen_studio, user_id)

    results = heygen_studio.client.get(f"/api/batches/{batch_id}/results", headers=headers).get_json()["data"]
    assert [r["row"] for r in results] == [1, 2, 3]
    assert sorted(r["status"] for r in results) == ["completed", "completed", "failed"]
    for result in results:
        if result["status"] == "completed":
            media = heygen_studio.client.get(result["video_url"].replace("http://localhost", ""))
            assert media.status_code == 200 and media.data[4:8] == b"ftyp"
        else:
            assert result["failure"]["code"] == "avatar_processing_failed" and result["video_url"] is None

    exported = heygen_studio.client.get(f"/api/batches/{batch_id}/results.csv", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert f'filename="batch-{batch_id}-results.csv"' in exported.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(line["row"], line["video_id"], line["status"]) for line in lines] == [
        (str(r["row"]), r["video_id"], r["status"]) for r in results]
    assert all(line["video_page"] == f"http://localhost/videos/{line['video_id']}" for line in lines)
    assert all(bool(line["video_url"]) == (line["status"] == "completed") for line in lines)


def test_a_deleted_row_video_leaves_a_gap_and_a_queued_one_is_refunded_alone(heygen_studio: Studio) -> None:
    """DELETE /api/videos/{id} of a batch row not yet started cancels and refunds that row;
    the batch shows it."""
    user_id, headers = heygen_studio.user(credits=10)
    batch_id = create_json(heygen_studio, headers, people(3)).get_json()["data"]["id"]
    second = video_ids(heygen_studio, batch_id)[1]
    removed = heygen_studio.client.delete(f"/api/videos/{second}", headers=headers).get_json()["data"]
    assert removed["cancelled"] is True and removed["refunded_credits"] == 1
    assert heygen_studio.balance(user_id) == 8
    assert (1, "render_refund", second) in ledger_rows(heygen_studio, user_id)
    deleted = heygen_studio.client.delete(f"/api/videos/{second}", headers=headers).get_json()["data"]
    assert deleted["deleted"] is True and heygen_studio.balance(user_id) == 8
    results = heygen_studio.client.get(f"/api/batches/{batch_id}/results", headers=headers).get_json()["data"]
    assert [(r["row"], r["status"]) for r in results] == [(1, "queued"), (2, "deleted"), (3, "queued")]
    counts = heygen_studio.client.get(f"/api/batches/{batch_id}",
                                      headers=headers).get_json()["data"]["counts"]
    assert counts["deleted"] == 1 and counts["queued"] == 2


def test_users_see_only_their_own_batches(heygen_studio: Studio) -> None:
    """Another user's batch is 404 everywhere (show, results, CSV, events,
    cancel) and absent from the list."""
    owner_id, owner = heygen_studio.user()
    _, other = heygen_studio.user()
    batch_id = create_json(heygen_studio, owner, people(2)).get_json()["data"]["id"]
    client = heygen_studio.client
    for path in ("", "/results", "/results.csv", "/events"):
        answer = client.get(f"/api/batches/{batch_id}{path}", headers=other)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "BATCH_NOT_FOUND", path
    refused = client.post(f"/api/batches/{batch_id}/cancel", headers=other)
    assert refused.status_code == 404
    assert client.get("/api/batches", headers=other).get_json()["data"] == []
    assert [b["id"] for b in client.get("/api/batches", headers=owner).get_json()["data"]] == [batch_id]
    assert heygen_studio.balance(owner_id) == 98
    assert client.get("/api/batches").status_code == 401


def test_the_list_is_newest_first_and_paged(heygen_studio: Studio) -> None:
    _, headers = heygen_studio.user()
    made = []
    for n in range(3):
        made.append(
            create_json(heygen_studio, headers, people(1), name=f"Batch {n}").get_json()["data"]["id"])
        heygen_studio.advance(1)
    first = heygen_studio.client.get("/api/batches?limit=2", headers=headers).get_json()
    assert [b["id"] for b in first["data"]] == made[::-1][:2]
    rest = heygen_studio.client.get(f"/api/batches?limit=2&cursor={first['meta']['next_cursor']}",
                                    headers=headers).get_json()
    assert [b["id"] for b in rest["data"]] == made[:1] and rest["meta"]["next_cursor"] is None
    bad = heygen_studio.client.get("/api/batches?cursor=nonsense", headers=headers)
    assert bad.status_code == 422


def test_the_event_stream_follows_the_batch_until_every_row_is_done(heygen_studio: Studio) -> None:
    """GET /api/batches/{id}/events: the batch now, then after changes, until done; a late stream sends the
    final state once."""
    _, headers = heygen_studio.user()
    batch_id = create_json(heygen_studio, headers, people(3)).get_json()["data"]["id"]
    listener = listen(heygen_studio.app.test_client(), f"/api/batches/{batch_id}/events", headers)
    heygen_studio.drive(*video_ids(heygen_studio, batch_id))
    listener.thread.join(timeout=120)           # generous: a loaded machine can be slow to wake it
    assert not listener.thread.is_alive()
    text = listener.text()
    assert text.startswith("retry: 3000")
    dones = re.findall(r'"done": (true|false)', text)
    assert dones[0] == "false" and dones[-1] == "true" and dones.count("true") == 1
    assert '"completed": 3' in text.split("event: status")[-1]
    with heygen_studio.client.get(f"/api/batches/{batch_id}/events", headers=headers) as late:
        body = late.get_data(as_text=True)
    assert body.count("event: status") == 1 and '"done": true' in body


def test_api_keys_need_the_batch_permissions(heygen_studio: Studio) -> None:
    """x-api-key: batches:create makes a batch (and a price), batches:read reads it, batches:cancel cancels
    it; a key holding only the video permissions is refused (403 API_KEY_FORBIDDEN) and nothing is charged."""
    user_id, _ = heygen_studio.user(credits=10)
    config = heygen_studio.app.config["GENVID"]

    def key(permissions: dict[str, list[str]]) -> dict[str, str]:
        _, made = create_api_key(heygen_studio.conn, user_id=user_id, request=NewKey(permissions=permissions),
                                 options=options_from(config), now=heygen_studio.clock())
        return {"x-api-key": made}

    videos_only = key({"videos": ["read", "create", "delete"]})
    refused = create_json(heygen_studio, videos_only, people(2))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "API_KEY_FORBIDDEN"
    assert "batches:create" in refused.get_json()["error"]["message"]
    assert stored(heygen_studio, user_id) == (0, 0) and heygen_studio.balance(user_id) == 10
    batches = key({"batches": ["read", "create", "cancel"]})
    assert create_csv(heygen_studio, batches, csv_of(2), path="/api/batch-previews").status_code == 200
    created = create_csv(heygen_studio, batches, csv_of(2))
    assert created.status_code == 202, created.get_json()
    batch_id = created.get_json()["data"]["id"]
    for path in ("", "/results", "/results.csv"):
        assert heygen_studio.client.get(f"/api/batches/{batch_id}{path}", headers=batches).status_code == 200
        assert heygen_studio.client.get(f"/api/batches/{batch_id}{path}",
                                        headers=videos_only).status_code == 403
    cancelled = heygen_studio.client.post(f"/api/batches/{batch_id}/cancel", headers=batches)
    assert cancelled.status_code == 200 and cancelled.get_json()["data"]["refunded_credits"] == 2
    assert heygen_studio.balance(user_id) == 10


def test_a_batch_debit_crossing_the_low_mark_records_credits_low_once(heygen_studio: Studio) -> None:
    """CREDITS_LOW_THRESHOLD is 10: a batch taking the balance from 12 to 7 records the outbound event
    credits.low (referencing the batch) in its own statement; the next batch, from 7 to 5, does not."""
    user_id, headers = heygen_studio.user(credits=12)
    first = create_json(heygen_studio, headers, people(5)).get_json()["data"]["id"]
    create_json(heygen_studio, headers, people(2))
    events = heygen_studio.conn.execute(
        "SELECT type, reference, payload FROM webhook_events WHERE user_id = %s", (user_id,)).fetchall()
    assert [(kind, reference) for kind, reference, _ in events] == [("credits.low", first)]
    assert '"balance" : 7' in events[0][2] and '"threshold" : 10' in events[0][2]
