"""The batch API: price, create, list, show, cancel, results (JSON and CSV), events.

Handlers parse, call one domain function, serialise. A create writes the batch, its videos (queued, due at
once) and the debit in one statement; the workers' dispatcher admits the rows as render slots free up, fairly
between users, so no handler queues anything.
"""
from __future__ import annotations

import json
from urllib.parse import quote

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth.current import current_user
from genvid.batches import plan, results, rows, service
from genvid.batches.schemas import (
    MULTIPART_BODY,
    BatchHeader,
    BatchOut,
    BatchQuery,
    CancelOut,
    CreateBatch,
    PreviewOut,
    PreviewRow,
    ResultOut,
)
from genvid.errors import BadRequest, ValidationFailed
from genvid.http import jsonbody
from genvid.http.api import (
    documented,
    idempotency_key,
    ok,
    parse_body,
    parse_query,
    validate,
)
from genvid.http.app_config import app_config
from genvid.infra import database, redis_client
from genvid.videos import events, media, streams

bp = Blueprint("batches", __name__)

_MULTIPART = {"multipart/form-data": {"schema": MULTIPART_BODY, "encoding": {
    "template": {"contentType": "application/json"}, "rows": {"contentType": "text/csv"}}}}
_BODY_ERRORS = (400, 413, 415, 422)
# One Server-Sent Event of GET /api/batches/{id}/events.
_EVENT = {"type": "object", "properties": {
    "event": {"enum": ["status", "deleted"]},
    "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": BatchOut},
    "retry": {"type": "string"}}}
_CSV_RESPONSE = {"type": "string", "description": "row,video_id,status,video_url,video_page,failure_code,"
                                                  "failure_message (a header line, then one line per row)"}
STREAM_MIN_INTERVAL = 0.5       # a batch's stream sends at most two snapshots a second


def _media_url(key: str) -> str:
    expires, signature = media.sign(key, now=clock.unix(), secret=app_config().better_auth_secret)
    return f"{request.host_url}api/media/{quote(key)}?expires={expires}&signature={signature}"


def _planned() -> tuple[str | None, plan.Plan]:
    """The batch in the request, JSON or multipart with a CSV file, checked row by row (nothing read from the
    database yet)."""
    if request.mimetype == "multipart/form-data":
        header, batch_rows = _multipart()
        return header.name, plan.plan_batch(header.template, batch_rows)
    body = parse_body(CreateBatch)          # 415 for any other content type
    return body.name, plan.plan_batch(body.template, rows.from_json(body.rows))


def _multipart() -> tuple[BatchHeader, rows.Rows]:
    """`template` (JSON text), `rows` (a CSV file,
    or the same text as a plain field) and an optional `name`."""
    unknown = sorted((set(request.form) | set(request.files)) - {"name", "template", "rows"})
    if unknown:
        raise ValidationFailed(details=[{"field": name, "message": "Not a field of a batch.", "type": "extra"}
                                        for name in unknown])
    upload = request.files.get("rows")
    data = upload.read() if upload is not None else request.form.get("rows", "").encode("utf-8",
                                                                                        "surrogatepass")
    template_text = request.form.get("template")
    problems = []
    if template_text is None:
        problems.append({"field": "template", "message": "Field required", "type": "missing"})
    if upload is None and "rows" not in request.form:
        problems.append({"field": "rows", "message": "Field required: a CSV file.", "type": "missing"})
    if problems:
        raise ValidationFailed(details=problems)
    assert template_text is not None
    try:
        raw_template = jsonbody.loads(template_text.encode("utf-8", "surrogatepass"), cap_depth=False)
    except (jsonbody.MalformedJSON, jsonbody.TooDeep):
        raise BadRequest("MALFORMED_JSON", "The template field is not valid JSON.") from None
    header = validate(BatchHeader, {"name": request.form.get("name") or None, "template": raw_template})
    return header, rows.from_csv(data)


@bp.post("/api/batch-previews")
@documented("Price a batch without creating it (checks every row)", body=CreateBatch, more_bodies=_MULTIPART,
            response=PreviewOut, tags=["batches"], errors=_BODY_ERRORS)
def preview_batch() -> ResponseReturnValue:
    """What POST /api/batches would charge for the same body, the user's balance, and the first row filled in;
    the same checks and errors, and nothing is stored or charged."""
    user = current_user()
    _, planned = _planned()
    with database.connection() as conn:
        price = service.quote(conn, user_id=user.id, provider=app_config().video_provider, plan=planned)
    first = planned.videos[0]
    return ok(PreviewOut(row_count=len(planned.videos), credits=price.credits, balance=price.balance,
                         enough_credits=price.balance >= price.credits, variables=planned.variables,
                         first_row=PreviewRow(row=first.row, script=first.script, title=first.title,
                                              credits=first.credits)))


@bp.post("/api/batches")
@documented("Create a batch: one video per row, paid for at once", body=CreateBatch, more_bodies=_MULTIPART,
            response=BatchOut, status=202, tags=["batches"], errors=(*_BODY_ERRORS, 402, 409))
def create_batch() -> ResponseReturnValue:
    """Every row is filled in and checked first (422 lists each problem by row and column, and nothing is
    charged); then the whole batch is priced and paid in one ledger entry, or refused whole (402 when the
    balance does not cover it). The rows render as videos, admitted fairly beside other users' videos.
    An optional Idempotency-Key header makes a retried request answer with the first batch.
    """
    user = current_user()
    key = idempotency_key()
    name, planned = _planned()          # every row checked before a database connection is taken
    with database.connection() as conn:
        created = service.create_batch(conn, user_id=user.id, provider=app_config().video_provider, name=name,
                                       plan=planned, idempotency_key=key, now=clock.now(),
                                       credits_low_threshold=app_config().credits_low_threshold)
        batch, counts = service.get_batch(conn, user_id=user.id, batch_id=created.batch.id)
    return ok(BatchOut.of(batch, counts), 202, headers={"Location": f"/api/batches/{batch.id}"})


@bp.get("/api/batches")
@documented("List your batches with their progress, newest first (keyset pagination)", query=BatchQuery,
            response=BatchOut, many=True, paged=True, tags=["batches"])
def list_batches() -> ResponseReturnValue:
    """Your batches, newest first; meta.next_cursor fetches the next page."""
    user = current_user()
    query = parse_query(BatchQuery)
    with database.connection() as conn:
        page, next_cursor = service.list_batches(conn, user_id=user.id, cursor=query.cursor,
                                                 limit=query.limit)
    return ok([BatchOut.of(batch, counts) for batch, counts in page], meta={"next_cursor": next_cursor})


@bp.get("/api/batches/<id:batch_id>")
@documented("Show one of your batches with its progress", response=BatchOut, tags=["batches"])
def show_batch(batch_id: str) -> ResponseReturnValue:
    """The batch, its rows counted by status, and what was refunded."""
    user = current_user()
    with database.connection() as conn:
        batch, counts = service.get_batch(conn, user_id=user.id, batch_id=batch_id)
    return ok(BatchOut.of(batch, counts))


@bp.post("/api/batches/<id:batch_id>/cancel")
@documented("Cancel the rows that have not started (refunded once)", response=CancelOut, tags=["batches"],
            errors=(409,))
def cancel_batch(batch_id: str) -> ResponseReturnValue:
    """Rows not yet admitted to render are cancelled and what they cost is given back in one refund, exactly
    once however many cancels arrive; rows already rendering finish and are paid for. A repeated cancel
    answers 0 rows; 409 BATCH_NOT_CANCELLABLE when every row had started or finished before any cancel."""
    user = current_user()
    with database.transaction() as conn:
        cancelled = service.cancel_batch(conn, user_id=user.id, batch_id=batch_id, now=clock.now())
    with database.connection() as conn:
        batch, counts = service.get_batch(conn, user_id=user.id, batch_id=batch_id)
    events.publish_many(redis_client.connection(),
                        [(video_id, "cancelled", batch_id) for video_id in cancelled.video_ids])
    return ok(CancelOut(batch=BatchOut.of(batch, counts), cancelled_rows=cancelled.rows,
                        refunded_credits=cancelled.refunded_credits))


@bp.get("/api/batches/<id:batch_id>/results")
@documented("Each row's video: id, status, media link", response=ResultOut, many=True, tags=["batches"])
def batch_results(batch_id: str) -> ResponseReturnValue:
    """One entry per row, in row order; media links are signed and last 15 minutes."""
    return ok(_results(batch_id))


@bp.get("/api/batches/<id:batch_id>/results.csv")
@documented("Each row's video as a CSV file", tags=["batches"], media_type="text/csv", response=_CSV_RESPONSE)
def batch_results_csv(batch_id: str) -> ResponseReturnValue:
    """The results as CSV (row, video_id, status, video_url, video_page, failure_code, failure_message), to
    put beside the rows that made them. video_url lasts 15 minutes; video_page is the video's page in the web
    app."""
    body = results.results_csv([result.model_dump(mode="json") for result in _results(batch_id)],
                               page_url=lambda video_id: f"{request.host_url}videos/{video_id}")
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="batch-{batch_id}-results.csv"'})


def _results(batch_id: str) -> list[ResultOut]:
    user = current_user()
    with database.connection() as conn:
        _, videos = service.results(conn, user_id=user.id, batch_id=batch_id)
    return [ResultOut.of(row, video, media_url=_media_url)
            for row, video in enumerate(videos, start=1)]


@bp.get("/api/batches/<id:batch_id>/events")
@documented("Stream the batch's progress (Server-Sent Events)", tags=["batches"], errors=(429,),
            media_type="text/event-stream", response=_EVENT)
def batch_events(batch_id: str) -> ResponseReturnValue:
    """text/event-stream: `retry: 3000`, then an `event: status` with the batch (as GET /api/batches/{id}) now
    and whenever its rows change (at most twice a second), until no row can change any more (`done`), or until
    the stream's time limit, after which EventSource reconnects by itself. The same limits as a video's
    stream."""
    user = current_user()
    with database.connection() as conn:
        service.get_batch(conn, user_id=user.id, batch_id=batch_id)     # 404 before the stream starts

    def snapshot() -> tuple[str, str] | None:
        with database.connection() as conn:
            try:
                batch, counts = service.get_batch(conn, user_id=user.id, batch_id=batch_id)
            except service.BatchNotFound:
                return None
        shown = BatchOut.of(batch, counts)
        status = "done" if shown.done else "running"
        return status, json.dumps(shown.model_dump(mode="json"), ensure_ascii=False)

    return streams.open_event_stream(user_id=user.id, channel_name=events.batch_channel(batch_id),
                                     body=lambda pubsub: events.stream(
                                         pubsub, subject_id=batch_id, snapshot=snapshot,
                                         is_final=lambda status: status == "done",
                                         max_seconds=app_config().event_stream_seconds,
                                         min_interval=STREAM_MIN_INTERVAL))
