"""Cancelling a batch: the rows not yet started are stopped and refunded in one ledger entry, exactly once,
however many cancels arrive and whatever the dispatcher admits at the same moment; the rows already rendering
finish and stay paid for."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from batch_helpers import create_json, ledger_rows, people, row_videos
from fakes.heygen import FakeHeyGen
from flask import Flask
from videos_fixtures import Studio

from genvid.clock import FrozenClock
from genvid.videos import dispatcher


@pytest.fixture
def capped(make_heygen_studio: Callable[..., Studio], fake_heygen: FakeHeyGen) -> Studio:
    """Renders through the fake HeyGen, two at a time (HEYGEN_MAX_CONCURRENT=2), each taking ten minutes."""
    studio = make_heygen_studio(heygen_max_concurrent=2)
    fake_heygen.render_seconds = 600
    return studio


def _statuses(studio: Studio, batch_id: str) -> dict[str, int]:
    """How many of the batch's videos are in each status."""
    return dict(Counter(video.status for video in row_videos(studio, batch_id)))


def _cancel(app: Flask, batch_id: str, headers: dict[str, str]) -> Any:
    return app.test_client().post(f"/api/batches/{batch_id}/cancel", headers=headers)


def test_cancel_mid_batch_refunds_the_rows_not_started_exactly_once(capped: Studio) -> None:
    """Two of ten rows are rendering: the cancel stops eight and refunds eight credits in one entry; the two
    finish and stay paid for; a second cancel changes nothing."""
    user_id, headers = capped.user(credits=20)
    batch_id = create_json(capped, headers, people(10)).get_json()["data"]["id"]
    capped.run_worker()
    assert _statuses(capped, batch_id) == {"rendering": 2, "queued": 8}
    answer = _cancel(capped.app, batch_id, headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()["data"]
    assert (body["cancelled_rows"], body["refunded_credits"]) == (8, 8)
    assert body["batch"]["status"] == "running" and body["batch"]["cancelled_at"] is not None
    assert body["batch"]["counts"]["cancelled"] == 8 and body["batch"]["refunded_credits"] == 8
    assert ledger_rows(capped, user_id) == [(-10, "batch", batch_id), (8, "batch_refund", batch_id)]
    assert capped.balance(user_id) == 18

    again = _cancel(capped.app, batch_id, headers).get_json()["data"]
    assert (again["cancelled_rows"], again["refunded_credits"]) == (0, 0)
    ids = [row[0] for row in capped.conn.execute("SELECT id FROM videos WHERE batch_id = %s AND status = "
                                                 "'rendering'", (batch_id,)).fetchall()]
    capped.drive(*ids)
    assert _statuses(capped, batch_id) == {"completed": 2, "cancelled": 8}
    batch = capped.client.get(f"/api/batches/{batch_id}", headers=headers).get_json()["data"]
    assert (batch["status"], batch["done"]) == ("cancelled", True)
    assert capped.balance(user_id) == 18 and len(ledger_rows(capped, user_id)) == 2
    assert capped.heygen is not None and capped.heygen.renders_created == 2


def test_two_cancels_at_once_refund_once(capped: Studio) -> None:
    """Both answer 200; one stopped the rows, the other found none left; one refund entry."""
    user_id, headers = capped.user(credits=20)
    batch_id = create_json(capped, headers, people(6)).get_json()["data"]["id"]
    capped.run_worker()
    start = threading.Barrier(2)
    answers: list[Any] = []

    def cancel() -> None:
        start.wait()
        answers.append(_cancel(capped.app, batch_id, headers))

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [answer.status_code for answer in answers] == [200, 200]
    stopped = sorted((a.get_json()["data"]["cancelled_rows"], a.get_json()["data"]["refunded_credits"])
                     for a in answers)
    assert stopped == [(0, 0), (4, 4)]
    assert ledger_rows(capped, user_id) == [(-6, "batch", batch_id), (4, "batch_refund", batch_id)]
    assert capped.balance(user_id) == 18


def test_a_cancel_racing_the_dispatcher_refunds_exactly_the_rows_it_stopped(
        make_heygen_studio: Callable[..., Studio], frozen_clock: FrozenClock) -> None:
    """The dispatcher admitting rows while a cancel stops them, started together, twenty times: every row ends
    either admitted (and paid for) or cancelled (and refunded in the one refund), never both and never
    neither, and neither side fails (no deadlock: the cancel locks rows in id order, the admission skips
    locked rows)."""
    studio = make_heygen_studio(heygen_max_concurrent=100_000)
    user_id, headers = studio.user(credits=1000)
    outcomes = set()
    for _ in range(20):
        batch_id = create_json(studio, headers, people(25)).get_json()["data"]["id"]
        results = _race(studio.app, batch_id, headers, frozen_clock)
        statuses = _statuses(studio, batch_id)
        admitted, cancelled = statuses.get("submitting", 0), statuses.get("cancelled", 0)
        assert admitted + cancelled == 25 and set(statuses) <= {"submitting", "cancelled"}, statuses
        answer = results["cancel"]
        refunds = [delta for delta, reason, reference in ledger_rows(studio, user_id)
                   if reason == "batch_refund" and reference == batch_id]
        if cancelled:
            assert answer.status_code == 200 and answer.get_json()["data"]["cancelled_rows"] == cancelled
            assert refunds == [cancelled]
        else:
            assert answer.status_code == 409 and refunds == []
        assert results["admitted"] >= admitted
        outcomes.add((admitted > 0, cancelled > 0))
    debits = sum(delta for delta, reason, _ in ledger_rows(studio, user_id) if reason == "batch")
    refunded = sum(delta for delta, reason, _ in ledger_rows(studio, user_id) if reason == "batch_refund")
    in_flight = studio.conn.execute("SELECT count(*) FROM videos WHERE status = 'submitting'").fetchone()
    assert in_flight is not None
    assert studio.balance(user_id) == 1000 + debits + refunded == 1000 - in_flight[0]
    print(f"\ncancel vs dispatch outcomes (admitted any, cancelled any): {sorted(outcomes)}")


def _race(app: Flask, batch_id: str, headers: dict[str, str], clock: FrozenClock) -> dict[str, Any]:
    """The dispatcher's round and a cancel of the batch, released at the same instant."""
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def admit() -> None:
        start.wait()
        results["admitted"] = dispatcher.dispatch_due(now=clock(), redispatch_seconds=60,
                                                      max_in_flight=100_000)

    def cancel() -> None:
        start.wait()
        results["cancel"] = _cancel(app, batch_id, headers)

    threads = [threading.Thread(target=admit), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_a_batch_with_nothing_left_to_stop_cannot_be_cancelled(capped: Studio) -> None:
    """409 BATCH_NOT_CANCELLABLE once every row has started, and the batch is not marked cancelled."""
    user_id, headers = capped.user(credits=20)
    batch_id = create_json(capped, headers, people(2)).get_json()["data"]["id"]
    capped.run_worker()
    answer = _cancel(capped.app, batch_id, headers)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "BATCH_NOT_CANCELLABLE"
    batch = capped.client.get(f"/api/batches/{batch_id}", headers=headers).get_json()["data"]
    assert batch["cancelled_at"] is None and capped.balance(user_id) == 18
