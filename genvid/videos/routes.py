"""The video API: catalogue listings, videos (create, list, show, delete, events), media links, webhooks.

Handlers parse, call one domain function, serialise. No handler touches the job queue: a create commits the
video row (due at once) and its debit, and the workers' dispatcher picks it up from PostgreSQL (see
genvid/videos/dispatcher.py), so a Redis outage cannot fail a create that already charged.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    redirect,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue

from db import models
from genvid import clock
from genvid.auth.current import current_user
from genvid.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
)
from genvid.http.api import documented, idempotency_key, ok, parse_body, parse_query
from genvid.http.app_config import app_config
from genvid.infra import database, redis_client
from genvid.videos import (
    catalogue,
    events,
    media,
    providers,
    service,
    streams,
    webhooks,
)
from genvid.videos.provider_contract import VideoSpec
from genvid.videos.schemas import (
    AvatarOut,
    AvatarQuery,
    CreateVideo,
    DeleteOut,
    HeyGenWebhookOut,
    VideoOut,
    VideoQuery,
    VoiceOut,
    VoiceQuery,
)

bp = Blueprint("videos", __name__)
log = logging.getLogger("genvid.videos.routes")
# One Server-Sent Event of GET /api/videos/{id}/events, as OpenAPI 3.1 describes an event stream's items.
_EVENT = {"type": "object", "properties": {
    "event": {"enum": ["status", "deleted"]},
    "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"anyOf": [
        VideoOut, {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}]}},
    "retry": {"type": "string"}}}


def _media_url(key: str) -> str:
    expires, signature = media.sign(key, now=clock.unix(), secret=app_config().better_auth_secret)
    return url_for("videos.media_file", key=key, expires=expires, signature=signature, _external=True)


def _video(video: models.Video) -> VideoOut:
    return VideoOut.of(video, media_url=_media_url)


@bp.get("/api/avatars")
@documented("List avatars (filters: gender, premium; keyset pagination)", query=AvatarQuery,
            response=AvatarOut, many=True, paged=True, tags=["catalogue"])
def list_avatars() -> ResponseReturnValue:
    """Live avatar looks of the configured provider, by name; meta.next_cursor fetches the next page."""
    current_user()
    query = parse_query(AvatarQuery)
    with database.connection() as conn:
        rows, next_cursor = catalogue.list_avatars(conn, provider=app_config().video_provider,
                                                   gender=query.gender, premium=query.premium,
                                                   cursor=query.cursor, limit=query.limit)
    return ok([catalogue.avatar_json(row, base_url=request.host_url) for row in rows],
              meta={"next_cursor": next_cursor})


@bp.get("/api/voices")
@documented("List voices (filters: gender, language, premium; keyset pagination)", query=VoiceQuery,
            response=VoiceOut, many=True, paged=True, tags=["catalogue"])
def list_voices() -> ResponseReturnValue:
    """Live voices of the configured provider, by name; meta.next_cursor fetches the next page."""
    current_user()
    query = parse_query(VoiceQuery)
    with database.connection() as conn:
        rows, next_cursor = catalogue.list_voices(conn, provider=app_config().video_provider,
                                                  gender=query.gender, language=query.language,
                                                  premium=query.premium,
                                                  cursor=query.cursor, limit=query.limit)
    return ok([catalogue.voice_json(row, base_url=request.host_url) for row in rows],
              meta={"next_cursor": next_cursor})


@bp.get("/api/avatars/<id:avatar_id>/preview.png")
@documented("A built-in (offline) avatar's preview picture, PNG", auth=False, tags=["catalogue"],
            errors=(404,), media_type="image/png")
def avatar_preview(avatar_id: str) -> ResponseReturnValue:
    """The picture the offline renderer draws for this avatar (linked from its preview_image_url)."""
    local = providers.local_provider(app_config())
    path = local.preview_picture(avatar_id) if local else None
    if path is None:
        raise NotFound("AVATAR_NOT_FOUND", "No built-in avatar has this id.")
    return _public_file(path, "image/png")


@bp.get("/api/voices/<id:voice_id>/sample.wav")
@documented("A built-in (offline) voice's short sample, WAV", auth=False, tags=["catalogue"], errors=(404,),
            media_type="audio/wav")
def voice_sample(voice_id: str) -> ResponseReturnValue:
    """A sentence in this voice (linked from its preview_audio_url);
    404 when no speech engine is installed."""
    local = providers.local_provider(app_config())
    path = local.voice_sample(voice_id) if local else None
    if path is None:
        raise NotFound("VOICE_SAMPLE_NOT_FOUND",
                       "No sample for this voice: unknown, or nothing here can speak.")
    return _public_file(path, "audio/wav")


def _public_file(path: Any, mimetype: str) -> Response:
    """The same bytes for everyone, so caches may keep them for a day
    (ETag and Range handled by send_file)."""
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.post("/api/videos")
@documented("Queue a render (debits its credits)", body=CreateVideo, response=VideoOut, status=202,
            tags=["videos"], errors=(400, 402, 409))
def create_video() -> ResponseReturnValue:
    """Price the script (see genvid/videos/pricing.py), debit the credits and queue the render.

    An optional Idempotency-Key header makes a retried request answer with the first video.
    """
    user = current_user()
    body = parse_body(CreateVideo)
    key = idempotency_key()
    # In autocommit mode: the create is a single statement (its own transaction, so no BEGIN or COMMIT round
    # trips), see service.create_video.
    config = app_config()
    with database.connection() as conn:
        created = service.create_video(conn, user_id=user.id, provider=config.video_provider,
                                       video=VideoSpec(**body.model_dump()), idempotency_key=key,
                                       now=clock.now(), credits_low_threshold=config.credits_low_threshold)
    location = url_for("videos.show_video", video_id=created.video.id)
    return ok(_video(created.video), 202, headers={"Location": location})


@bp.get("/api/videos")
@documented("List your videos, newest first (status filter; keyset pagination)", query=VideoQuery,
            response=VideoOut, many=True, paged=True, tags=["videos"])
def list_videos() -> ResponseReturnValue:
    """Your videos, newest first; meta.next_cursor fetches the next page."""
    user = current_user()
    query = parse_query(VideoQuery)
    with database.connection() as conn:
        rows, next_cursor = service.list_videos(conn, user_id=user.id, status=query.status,
                                                cursor=query.cursor, limit=query.limit)
    return ok([_video(row) for row in rows], meta={"next_cursor": next_cursor})


@bp.get("/api/videos/<id:video_id>")
@documented("Show one of your videos", response=VideoOut, tags=["videos"])
def show_video(video_id: str) -> ResponseReturnValue:
    """The video with its status, failure reason and signed media links."""
    user = current_user()
    with database.connection() as conn:
        video = service.get_video(conn, user_id=user.id, video_id=video_id)
    return ok(_video(video))


@bp.delete("/api/videos/<id:video_id>")
@documented("Cancel a queued render (refunded) or delete a video and its media", response=DeleteOut,
            tags=["videos"])
def delete_video(video_id: str) -> ResponseReturnValue:
    """A render not yet submitted is cancelled and refunded (the record stays, status cancelled);
    any other video is deleted together with its stored media."""
    user = current_user()
    with database.transaction() as conn:
        removed = service.remove_video(conn, user_id=user.id, video_id=video_id, now=clock.now())
    if removed.cancelled:
        events.publish(redis_client.connection(), video_id=video_id, status=removed.video.status.value,
                       batch_id=removed.video.batch_id)
    else:
        try:
            media.storage_for(app_config()).delete_prefix(media.video_prefix(video_id))
        except media.StorageUnavailable as exc:
            # The row is gone, so nobody can reach the media; the daily orphan pruning deletes it later.
            log.warning("media not deleted; left to the daily pruning",
                        extra={"video_id": video_id, "reason": str(exc)})
        events.publish(redis_client.connection(), video_id=video_id, status="deleted",
                       batch_id=removed.video.batch_id)
    return ok({"id": video_id, "cancelled": removed.cancelled, "deleted": not removed.cancelled,
               "refunded_credits": removed.refunded_credits})


@bp.get("/api/videos/<id:video_id>/events")
@documented("Stream status changes (Server-Sent Events)", tags=["videos"], errors=(429,),
            media_type="text/event-stream", response=_EVENT)
def video_events(video_id: str) -> ResponseReturnValue:
    """text/event-stream: `retry: 3000`, then an `event: status` with the video now and after every change,
    until it is completed, failed or cancelled (`event: deleted` if it is deleted), or until the stream's time
    limit, after which EventSource reconnects by itself. At most event_streams_per_user (2) streams per user
    (429) and four per web process (503); see genvid/videos/events.py."""
    user = current_user()
    with database.connection() as conn:
        service.get_video(conn, user_id=user.id, video_id=video_id)   # 404 before the stream starts

    def snapshot() -> tuple[str, str] | None:
        with database.connection() as conn:
            video = service.get_video_or_none(conn, user_id=user.id, video_id=video_id)
        return None if video is None else (
            video.status.value, json.dumps(_video(video).model_dump(mode="json"), ensure_ascii=False))

    final = {s.value for s in models.VideoStatus if s not in service.UNFINISHED}
    return streams.open_event_stream(user_id=user.id, channel_name=events.channel(video_id),
                                     body=lambda pubsub: events.stream(
                                         pubsub, subject_id=video_id, snapshot=snapshot,
                                         is_final=lambda status: status in final,
                                         max_seconds=app_config().event_stream_seconds))


@bp.get("/api/media/<path:key>")
@documented("Fetch stored media through a signed, short-lived link (supports Range)", auth=False,
            tags=["videos"], errors=(403, 404, 503), media_type="application/octet-stream",
            parameters=({"name": "expires", "in": "query", "required": True, "schema": {"type": "string"}},
                        {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"}}),
            responses={206: {"description": "Part of the file (Range)"}, 302: {
                "description": "With object storage: a presigned GET at the store",
                "headers": {"Location": {"schema": {"type": "string"}}}},
                304: {"description": "Not modified"}, 416: {"description": "Range not satisfiable"}})
def media_file(key: str) -> ResponseReturnValue:
    """The file behind a link from a video's video_url or thumbnail_url; 403 once the link expired.

    With object storage (MEDIA_STORAGE_URL) the answer is a 302 to a presigned GET at the store, valid for
    15 minutes, which serves the bytes and Range itself; with disk storage genvid sends the file."""
    try:
        expires = int(request.args.get("expires", ""))
    except ValueError:
        raise Forbidden("INVALID_MEDIA_LINK", "This media link is not valid.") from None
    problem = media.check_signature(key, expires, request.args.get("signature", ""), now=clock.unix(),
                                    secret=app_config().better_auth_secret)
    if problem == "expired":
        raise Forbidden("MEDIA_LINK_EXPIRED",
                        "This media link has expired; fetch the video again for a new one.")
    if problem is not None:
        raise Forbidden("INVALID_MEDIA_LINK", "This media link is not valid.")
    try:
        location = media.storage_for(app_config()).locate(key, expires_in=media.LINK_TTL_SECONDS)
    except media.StorageUnavailable as exc:
        log.warning("media store unavailable", extra={"reason": str(exc)})
        raise ServiceUnavailable("MEDIA_STORAGE_UNAVAILABLE", "Stored media cannot be reached right now.",
                                 headers={"Retry-After": "30"}) from None
    if location is None:
        raise NotFound("MEDIA_NOT_FOUND", "This media no longer exists.")
    if isinstance(location, media.Presigned):
        response = redirect(location.url, code=302)
        response.headers["Cache-Control"] = "no-store"   # the presigned URL expires; ask genvid again
        return response
    response = send_file(location.path, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/api/webhooks/heygen")
@documented("HeyGen webhook deliveries (signed; duplicates are harmless)", auth=False, raw_body=True,
            response=HeyGenWebhookOut, tags=["webhooks"], errors=(400,))
def heygen_webhook() -> ResponseReturnValue:
    """Verified on the raw body; a success or failure event triggers an immediate status check."""
    delivery = webhooks.receive_heygen(config=app_config(), headers=dict(request.headers),
                                       raw_body=request.get_data(cache=False), now=clock.now())
    return ok({"received": True, "duplicate": delivery.duplicate})
