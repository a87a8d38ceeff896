"""Outbound webhooks: each event reaches the endpoints subscribed to it once, signed as Standard Webhooks says
(every delivery checked with the reference library), with the JSON the API returns; failures are retried on
the backoff schedule for a day, then the endpoint is disabled and its owner mailed once; time moves on the
webhooks' clock and due work is run explicitly, never by sleeping."""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import redis
from billing_fixtures import Buyer, Webhooks
from factories import bearer, create_session, create_user
from fakes.stripe import FakeStripe, event
from flask.testing import FlaskClient
from test_videos_outages import throwaway_redis  # noqa: F401 - the fixture, shared
from webhooks_fixtures import Behaviour, Receiver, body_of, dispatch
from worker_processes import wait

import db.outbound_webhooks as queries
from genvid.clock import FrozenClock
from genvid.infra import database, redis_client
from genvid.outbound import CREDITS_PURCHASED, delivery, dispatcher, emit
from genvid.worker import GenvidWorker, WorkerLoop

ALL_EVENTS = ["video.completed", "video.failed", "credits.purchased", "credits.low"]


def register(client: FlaskClient, headers: dict[str, str], receiver: Receiver, path: str,
             events: list[str] | None = None) -> dict[str, Any]:
    """Register receiver's path for events; the receiver verifies with the secret the answer shows once."""
    answer = client.post("/api/webhooks/endpoints", headers=headers,
                         json={"url": receiver.url(path), "event_types": events or ALL_EVENTS})
    assert answer.status_code == 201, answer.get_json()
    endpoint: dict[str, Any] = answer.get_json()["data"]
    assert endpoint["secret"].startswith("whsec_")
    receiver.secrets.setdefault(path, []).append(endpoint["secret"])
    return endpoint


def signed_in(conn: psycopg.Connection) -> tuple[str, dict[str, str]]:
    user = create_user(conn)
    return user.id, bearer(create_session(conn, user_id=user.id))


def emit_now(user_id: str, reference: str, event_type: str = CREDITS_PURCHASED) -> None:
    with database.transaction() as conn:
        emit(conn, user_id=user_id, type=event_type, reference=reference, data={"reference": reference})


def deliveries(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT status::text, attempts, next_attempt_at, last_status_code, last_error "
                        "FROM webhook_deliveries ORDER BY created_at").fetchall()


def test_video_events_and_credits_low_are_delivered_once_as_the_api_shows_them(
        heygen_studio, fake_heygen, receiver, deliver_now, webhook_time):
    """A completed render, a failed one and the debit that took the balance below 10 credits each reach the
    endpoint once, verified by standardwebhooks, carrying the video as GET /api/videos/{id} shows it."""
    _, headers = heygen_studio.user(credits=10)
    register(heygen_studio.client, headers, receiver, "/hook")
    done = heygen_studio.create(headers).get_json()["data"]["id"]          # 10 -> 9: credits.low
    heygen_studio.drive(done)
    fake_heygen.fail_next("create", status=400, code="invalid_parameter")
    failed = heygen_studio.create(headers, "A second script.").get_json()["data"]["id"]   # 9 -> 8: none
    heygen_studio.drive(failed)
    deliver_now()   # its dispatch fans out credits.low, which SQL wrote inside the debit
    heygen_studio.drive(done, failed)        # more worker runs change nothing: each event went once
    deliver_now()

    got = {body_of(item)["type"]: item for item in receiver.at("/hook")}
    assert sorted(got) == ["credits.low", "video.completed", "video.failed"]
    assert len(receiver.at("/hook")) == 3
    # the reference library agreed
    assert all(isinstance(item.verified, dict) for item in receiver.at("/hook"))
    assert len({item.headers["webhook-id"] for item in receiver.at("/hook")}) == 3
    for video_id, event_type in ((done, "video.completed"), (failed, "video.failed")):
        shown = heygen_studio.client.get(f"/api/videos/{video_id}", headers=headers).get_json()["data"]
        sent = body_of(got[event_type])["data"]
        links = ("video_url", "thumbnail_url")         # signed links: same file, own signature and expiry
        assert {k: v for k, v in sent.items() if k not in links} == {
            k: v for k, v in shown.items() if k not in links}
        assert [bool(sent[k]) for k in links] == [bool(shown[k]) for k in links]
    assert body_of(got["video.failed"])["data"]["failure"]["code"] == "invalid_parameter"
    assert body_of(got["credits.low"])["data"] == {"credits": {"balance": 9, "pending": 0}, "threshold": 10}


def test_credits_purchased_once_per_checkout(billing_client: FlaskClient, buyer: Buyer,
                                             fake_stripe: FakeStripe,
                                             webhooks: Webhooks, receiver, deliver_now):
    """Stripe delivering checkout.session.completed twice grants once and tells the endpoint once, with the
    checkout as GET /api/billing/checkout/{id} shows it and the balance as GET /api/credits."""
    register(billing_client, buyer.headers, receiver, "/billing", ["credits.purchased"])
    session_id = billing_client.post("/api/billing/checkout", json={"pack_id": "starter"},
                                     headers=buyer.headers).get_json()["data"]["id"]
    completed = event("checkout.session.completed", fake_stripe.complete_session(session_id))
    assert webhooks.deliver(completed).status_code == 200
    assert webhooks.deliver(completed).status_code == 200
    deliver_now()
    (item,) = receiver.at("/billing")
    assert isinstance(item.verified, dict)
    shown = billing_client.get(f"/api/billing/checkout/{session_id}",
                               headers=buyer.headers).get_json()["data"]
    assert body_of(item)["data"] == {"checkout": shown, "credits": {"balance": 100, "pending": 0}}


def test_a_failing_endpoint_is_retried_for_a_day_then_disabled_and_its_owner_mailed_once(
        make_app, conn, receiver, deliver_now, webhook_time, mailbox):
    """Attempts come 15 s, 30 s, 60 s ... apart (at most 4 h, up to 10% later), the last one a day after the
    event; every one carries the same webhook-id and verifies. Then the delivery has failed, the endpoint is
    disabled ('failing'), and one mail tells its owner."""
    app = make_app(smtp_url=mailbox.url)
    user_id, headers = signed_in(conn)
    endpoint = register(app.test_client(), headers, receiver, "/down")
    receiver.behaviours["/down"] = Behaviour(status=500, body=b"database is down")
    start = webhook_time()
    emit_now(user_id, "r1")
    deliver_now()
    while deliveries(conn)[0][0] == "pending":
        webhook_time.moment = deliveries(conn)[0][2]          # to the moment the next attempt is due
        deliver_now()

    times = [row[0] for row in conn.execute("SELECT started_at FROM webhook_attempts ORDER BY attempt")]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    for number, gap in enumerate(gaps[:-1], start=1):
        expected = min(14400, 15 * 2 ** (number - 1))
        assert expected <= gap <= expected * 1.1 + 0.001, (number, gap)
    assert times[-1] - start == timedelta(days=1)
    assert len(receiver.at("/down")) == len(times) >= 15
    assert len({item.headers["webhook-id"] for item in receiver.at("/down")}) == 1
    assert all(isinstance(item.verified, dict) for item in receiver.at("/down"))
    assert deliveries(conn)[0][:2] == ("failed", len(times))
    shown = app.test_client().get(f"/api/webhooks/endpoints/{endpoint['id']}",
                                  headers=headers).get_json()["data"]
    assert (shown["enabled"], shown["disabled_reason"]) == (False, "failing")
    assert len(mailbox.messages) == 1 and "disabled" in mailbox.messages[0]["Subject"]
    log = app.test_client().get(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries",
                                headers=headers).get_json()["data"][0]
    assert log["status"] == "failed" and len(log["attempt_log"]) == len(times)
    assert {a["status_code"] for a in log["attempt_log"]} == {500}
    assert log["attempt_log"][0]["response_excerpt"] == "database is down"
    emit_now(user_id, "r2")                     # a disabled endpoint gets nothing
    deliver_now()
    assert len(receiver.at("/down")) == len(times)


def test_success_ends_a_failure_streak(app, client, conn, receiver, deliver_now, webhook_time):
    """Two failures, then the receiver recovers: the retry succeeds and the endpoint is healthy again."""
    user_id, headers = signed_in(conn)
    endpoint = register(client, headers, receiver, "/flaky")
    receiver.behaviours["/flaky"] = Behaviour(status=503)
    emit_now(user_id, "r1")
    deliver_now()
    webhook_time.advance(20)
    deliver_now()
    assert client.get(f"/api/webhooks/endpoints/{endpoint['id']}",
                      headers=headers).get_json()["data"]["failing_since"]
    receiver.behaviours["/flaky"] = Behaviour(status=204, body=b"")
    webhook_time.advance(40)
    deliver_now()
    assert deliveries(conn)[0][:4] == ("succeeded", 3, deliveries(conn)[0][2], 204)
    assert client.get(f"/api/webhooks/endpoints/{endpoint['id']}",
                      headers=headers).get_json()["data"]["failing_since"] is None


def test_timeouts_large_answers_and_redirects(make_app, conn, receiver, deliver_now):
    """A receiver that stalls past webhook_timeout_seconds fails with 'timeout'; one that answers slowly but
    in time succeeds (its latency logged); a 200 KB answer succeeds with only its first KiB kept; a redirect
    is a failed attempt and is not followed."""
    app = make_app(webhook_timeout_seconds=2.0)
    user_id, headers = signed_in(conn)
    receiver.behaviours.update({"/stall": Behaviour(delay=30), "/slow": Behaviour(delay=0.5),
                                "/huge": Behaviour(body=b"x" * 200_000),
                                "/moved": Behaviour(status=302, location=receiver.url("/elsewhere"))})
    for path in ("/stall", "/slow", "/huge", "/moved"):
        register(app.test_client(), headers, receiver, path)
    emit_now(user_id, "r1")
    deliver_now()
    rows = {row[0]: row[1:] for row in conn.execute(
        "SELECT e.url, a.status_code, a.error, length(a.response_excerpt) FROM webhook_attempts a "
        "JOIN webhook_deliveries d ON d.id = a.delivery_id JOIN webhook_endpoints e ON e.id = d.endpoint_id")}
    assert rows[receiver.url("/stall")] == (None, "timeout", 0)
    assert rows[receiver.url("/slow")] == (200, None, 2)
    slow_latency = conn.execute("SELECT a.latency_ms FROM webhook_attempts a JOIN webhook_deliveries d ON "
                                "d.id = a.delivery_id JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                                "WHERE e.url = %s", (receiver.url("/slow"),)).fetchone()[0]
    assert slow_latency >= 500                 # it waited for the answer (a lower bound: sleep guarantees it)
    assert rows[receiver.url("/huge")] == (200, None, 1024)
    assert rows[receiver.url("/moved")] == (302, None, 2)
    assert receiver.at("/elsewhere") == []
    statuses = dict(conn.execute("SELECT e.url, d.status::text FROM webhook_deliveries d "
                                 "JOIN webhook_endpoints e ON e.id = d.endpoint_id").fetchall())
    assert statuses == {receiver.url("/stall"): "pending", receiver.url("/slow"): "succeeded",
                        receiver.url("/huge"): "succeeded", receiver.url("/moved"): "pending"}


def test_duplicate_jobs_send_once_and_a_redelivery_reuses_the_webhook_id(app, client, conn, receiver,
                                                                         deliver_now):
    """Five jobs for one delivery make one request; a redelivery asked for makes one more with the same
    webhook-id, and the log shows both attempts with status, latency and the answer's start."""
    user_id, headers = signed_in(conn)
    endpoint = register(client, headers, receiver, "/hook")
    emit_now(user_id, "r1")
    (delivery_id,) = [row[0] for row in conn.execute("SELECT id FROM webhook_deliveries")]
    delivery.enqueue([delivery_id] * 4)
    deliver_now()
    assert len(receiver.at("/hook")) == 1
    again = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries/{delivery_id}/redeliver",
                        headers=headers)
    assert again.status_code == 202
    deliver_now()
    first, second = receiver.at("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    log = client.get(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries", headers=headers).get_json()
    (entry,) = log["data"]
    assert (entry["status"], entry["attempts"]) == ("succeeded", 2)
    assert [(a["attempt"], a["status_code"], a["response_excerpt"]) for a in entry["attempt_log"]] == [
        (1, 200, "ok"), (2, 200, "ok")]
    assert all(isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0 for a in entry["attempt_log"])


def test_a_rolled_back_change_sends_nothing(app, conn, receiver, deliver_now, client):
    """emit() inside a transaction that rolls back: the event and its delivery roll back with the change, so
    there is nothing to dispatch and nothing is sent."""
    user_id, headers = signed_in(conn)
    register(client, headers, receiver, "/hook")
    with pytest.raises(RuntimeError), database.transaction() as tx:
        emit(tx, user_id=user_id, type=CREDITS_PURCHASED, reference="r1", data={})
        raise RuntimeError("the change failed")
    assert deliver_now() == 0
    assert receiver.at("/hook") == []
    assert conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0


def test_jobs_lost_with_redis_are_dispatched_again_from_their_rows(app, client, conn, receiver, deliver_now,
                                                                    webhook_time, redis_client):
    """Redis flushed after a delivery was dispatched: the row still says it is due, and once its dispatch
    claim lapses (webhook_redispatch_seconds) a worker's loop dispatches it again; nothing waited in Redis."""
    user_id, headers = signed_in(conn)
    register(client, headers, receiver, "/hook")
    emit_now(user_id, "r1")
    assert dispatch(webhook_time()) == 1
    redis_client.flushdb()
    assert deliver_now() == 0                       # dispatched moments ago: its job may still be on its way
    assert receiver.at("/hook") == []
    webhook_time.advance(app.config["GENVID"].webhook_redispatch_seconds + 1)
    assert deliver_now() == 1
    assert len(receiver.at("/hook")) == 1


def test_a_worker_killed_mid_attempt_leaves_the_delivery_to_another(app, client, conn, receiver, deliver_now,
                                                                   webhook_time):
    """An attempt claimed by a worker that died (its job gone, the delivery in flight): once the attempt's
    lease (webhook_timeout_seconds + 60 s) has run out, a loop dispatches it again and the next attempt goes
    out."""
    user_id, headers = signed_in(conn)
    register(client, headers, receiver, "/hook")
    emit_now(user_id, "r1")
    (delivery_id,) = [row[0] for row in conn.execute("SELECT id FROM webhook_deliveries")]
    with database.connection() as tx:              # what the dead worker's job did before it died
        now = webhook_time()
        assert queries.claim_delivery(tx, id=delivery_id, now=now, lease_until=now + timedelta(seconds=70))
    assert deliver_now() == 0                       # in flight: nobody else may send it
    webhook_time.advance(71)
    assert deliver_now() == 1
    assert len(receiver.at("/hook")) == 1
    assert deliveries(conn)[0][:2] == ("succeeded", 2)


def test_every_worker_loop_tick_dispatches_webhooks_and_prunes_the_log_daily(app, client, conn, receiver,
                                                                             webhook_time):
    """The worker's own loop (genvid.worker.WorkerLoop), not a test helper, finds due deliveries; the 30-day
    pruning runs once a day from periodic_runs, on one worker however many look."""
    user_id, headers = signed_in(conn)
    emit_now(user_id, "old")                        # before any endpoint: an event with no delivery
    conn.execute("UPDATE webhook_events SET created_at = created_at - interval '31 days'")
    register(client, headers, receiver, "/hook")
    emit_now(user_id, "new")
    loop, other = WorkerLoop(app.config["GENVID"]), WorkerLoop(app.config["GENVID"])
    loop.tick(webhook_time())
    other.tick(webhook_time())   # a second worker: nothing left to dispatch, pruning claimed
    jobs = redis_client.get_queue(delivery.QUEUE)
    assert [job.func_name.rsplit(".", 1)[-1] for job in jobs.get_jobs()] == ["deliver", "prune_log"]
    GenvidWorker([jobs], connection=redis_client.connection()).work(burst=True, logging_level="WARNING")
    assert conn.execute("SELECT reference FROM webhook_events").fetchall() == [("new",)]
    assert len(receiver.at("/hook")) == 1
    webhook_time.advance(3600)
    assert not dispatcher.prune_if_due(now=webhook_time())       # a day has not passed since the last run
    webhook_time.advance(86400)
    assert dispatcher.prune_if_due(now=webhook_time())


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(app, client, conn, receiver, deliver_now,
                                                             webhook_time):
    """After a rotation each delivery carries two signatures, so the old and the new secret both verify;
    after 24 hours only the new one signs."""
    user_id, headers = signed_in(conn)
    endpoint = register(client, headers, receiver, "/hook")
    rotated = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/rotate-secret",
                          headers=headers).get_json()
    new = rotated["data"]["secret"]
    assert new != endpoint["secret"]
    receiver.secrets["/hook"].append(new)
    emit_now(user_id, "r1")
    deliver_now()
    webhook_time.advance(86401)
    emit_now(user_id, "r2")
    deliver_now()
    first, second = receiver.at("/hook")
    assert first.secrets_that_verify == [endpoint["secret"], new]
    assert second.secrets_that_verify == [new]
    assert "secret" not in client.get(f"/api/webhooks/endpoints/{endpoint['id']}",
                                      headers=headers).get_json()["data"]


REFUSED_IN_PRODUCTION = [
    "http://hooks.example.com/x",          # https only
    "https://127.0.0.1/hook", "https://localhost/hook", "https://10.1.2.3/", "https://192.168.0.10/",
    "https://172.16.0.1/", "https://169.254.169.254/latest/meta-data", "https://[::1]/", "https://[fe80::1]/",
    "https://[::ffff:127.0.0.1]/", "https://[64:ff9b::a00:1]/", "https://0.0.0.0/", "https://2130706433/",
    "https://100.64.0.1/", "https://user:pass@example.com/", "https://no-such-host.invalid/",
]


@pytest.mark.parametrize("url", REFUSED_IN_PRODUCTION)
def test_production_refuses_inward_urls_at_registration(make_app, conn, url):
    """In production a URL must be https and resolve only to public addresses (SSRF):
    422 WEBHOOK_URL_REFUSED."""
    app = make_app(environment="production")
    _, headers = signed_in(conn)
    answer = app.test_client().post("/api/webhooks/endpoints", headers=headers,
                                    json={"url": url, "event_types": ["video.completed"]})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "WEBHOOK_URL_REFUSED"
    assert answer.get_json()["error"]["details"][0]["field"] == "url"


@pytest.mark.parametrize("url", [" http://127.0.0.1/x", "http://127.0.0.1/x ", "\x01http://127.0.0.1/x",
                                 "http://127.0.0.1/a\tb", "ftp://127.0.0.1/x", "http:///x",
                                 "http://127.0.0.1/#top"])
def test_any_environment_refuses_urls_that_are_not_plain_http(client, conn, url):
    """Outside production too: a URL is taken as given, never trimmed or cleaned the way urlsplit would
    quietly do (so the document's pattern, ^https?://, holds for everything accepted)."""
    _, headers = signed_in(conn)
    answer = client.post("/api/webhooks/endpoints", headers=headers,
                         json={"url": url, "event_types": ["video.completed"]})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (422, "WEBHOOK_URL_REFUSED"), url


def test_production_refuses_inward_addresses_at_delivery(make_app, client, conn, receiver, deliver_now):
    """An endpoint that points inward (registered before production rules applied, or whose DNS changed) is
    refused at delivery: no connection is made and the attempt says why."""
    user_id, headers = signed_in(conn)
    register(client, headers, receiver, "/inside")
    make_app(environment="production")             # the worker now runs with production's rules
    conn.execute("UPDATE webhook_endpoints SET url = replace(url, 'http://', 'https://')")
    emit_now(user_id, "r1")
    deliver_now()
    assert receiver.at("/inside") == []
    (error,) = [row[0] for row in conn.execute("SELECT error FROM webhook_attempts")]
    assert error.startswith("refused: ") and "127.0.0.1" in error


def test_endpoints_are_private_checked_and_closed_to_keys_without_the_permission(app, client, conn, receiver):
    """Unknown event types are 422, another user's endpoint is 404, a 21st endpoint is 409, disabling ends
    pending deliveries, and an API key needs webhooks:write to change endpoints."""
    user_id, headers = signed_in(conn)
    _, stranger = signed_in(conn)
    bad = client.post("/api/webhooks/endpoints", headers=headers,
                      json={"url": receiver.url("/x"), "event_types": ["video.deleted"]})
    assert bad.status_code == 422
    endpoint = register(client, headers, receiver, "/x")
    assert client.get(f"/api/webhooks/endpoints/{endpoint['id']}", headers=stranger).status_code == 404
    assert client.get("/api/webhooks/endpoints", headers=stranger).get_json()["data"] == []
    for number in range(19):
        register(client, headers, receiver, f"/n{number}")
    too_many = client.post("/api/webhooks/endpoints", headers=headers,
                           json={"url": receiver.url("/21"), "event_types": ["credits.low"]})
    assert (too_many.status_code, too_many.get_json()["error"]["code"]) == (409, "TOO_MANY_WEBHOOK_ENDPOINTS")
    emit_now(user_id, "r1")
    off = client.patch(f"/api/webhooks/endpoints/{endpoint['id']}", headers=headers, json={"enabled": False})
    assert (off.get_json()["data"]["enabled"], off.get_json()["data"]["disabled_reason"]) == (False, "manual")
    statuses = conn.execute("SELECT d.status::text FROM webhook_deliveries d WHERE d.endpoint_id = %s",
                            (endpoint["id"],)).fetchall()
    assert statuses == [("failed",)]
    from genvid.auth.apikeys import NewKey, create_api_key, options_from
    _, key = create_api_key(conn, user_id=user_id, request=NewKey(permissions={"webhooks": ["read"]}),
                            options=options_from(app.config["GENVID"]), now=FrozenClock()())
    assert client.get("/api/webhooks/endpoints", headers={"x-api-key": key}).status_code == 200
    refused = client.delete(f"/api/webhooks/endpoints/{endpoint['id']}", headers={"x-api-key": key})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "API_KEY_FORBIDDEN")
    assert client.delete(f"/api/webhooks/endpoints/{endpoint['id']}", headers=headers).status_code == 200


def test_loops_dispatching_at_once_dispatch_each_due_delivery_once(app, client, conn, receiver, webhook_time):
    """Six workers' loops ticking at the same moment over 40 due deliveries: 40 jobs, one per delivery."""
    user_id, headers = signed_in(conn)
    register(client, headers, receiver, "/hook")
    for number in range(40):
        emit_now(user_id, f"r{number}")
    now = webhook_time()
    barrier = threading.Barrier(6)

    def tick(_: int) -> int:
        barrier.wait(timeout=120)
        return dispatcher.dispatch_due(now=now, redispatch_seconds=60, batch=7)

    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(tick, range(6))) == 40
    queued = redis_client.get_queue(delivery.QUEUE).get_jobs()
    assert len(queued) == 40 and len({job.args[0] for job in queued}) == 40


def test_deliveries_that_could_not_be_queued_go_out_as_soon_as_redis_answers_again(
        make_app, conn, receiver, webhook_time, throwaway_redis):  # noqa: F811
    """A dispatch while Redis is dead claims nothing (its transaction rolls back), so the delivery is
    dispatched at the first tick after Redis is back, not webhook_redispatch_seconds later."""
    app = make_app(redis_url=throwaway_redis.url)
    user_id, headers = signed_in(conn)
    register(app.test_client(), headers, receiver, "/hook")
    emit_now(user_id, "r1")
    throwaway_redis.kill()
    with pytest.raises(redis.ConnectionError):
        dispatcher.dispatch_due(now=webhook_time(), redispatch_seconds=60)
    throwaway_redis.start()
    webhook_time.advance(1)
    assert dispatcher.dispatch_due(now=webhook_time(), redispatch_seconds=60) == 1


def test_deliveries_a_tick_fans_out_are_committed_before_their_jobs_are_queued(app, client, conn, receiver,
                                                                                webhook_time, redis_client):
    """A tick fans out SQL-written events (credits.low) into deliveries and enqueues a job for each before its
    dispatch claim commits. So the deliveries themselves must be committed by then: an idle worker starts the
    job at once, and a delivery it could not see yet would be left to the redispatch, a minute later. Redis
    writes are paused to hold the tick inside its enqueue."""
    user_id, headers = signed_in(conn)
    register(client, headers, receiver, "/hook", events=["credits.low"])
    conn.execute("INSERT INTO webhook_events (id, user_id, type, reference, payload, created_at) "
                 "VALUES ('msg_low', %s, 'credits.low', 'v1', '{}', %s)", (user_id, webhook_time()))
    redis_client.execute_command("CLIENT", "PAUSE", 600_000, "WRITE")
    try:
        tick = threading.Thread(target=dispatch, args=(webhook_time(),))
        tick.start()
        wait(lambda: _held_writers(redis_client) == 1, "the tick to enqueue")
        seen_by_a_worker = deliveries(conn)
    finally:
        redis_client.execute_command("CLIENT", "UNPAUSE")
    tick.join(timeout=120)
    assert len(seen_by_a_worker) == 1
    assert _held_writers(redis_client) == 0


def _held_writers(client: redis.Redis) -> int:
    """Redis clients held by CLIENT PAUSE (blocked: flag b; nothing here waits in BLPOP)."""
    listed = client.execute_command("CLIENT", "LIST").decode().splitlines()
    return sum("b" in field.removeprefix("flags=") for line in listed for field in line.split()
               if field.startswith("flags="))
