"""Request and response shapes of the batch API (pydantic); BatchOut.of() is how a batch is shown to its
owner, ResultOut.of() how one of its rows is."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from db import models
from db.batches_batches import CountBatchVideosRow
from genvid.batches.rows import MAX_ROWS
from genvid.request_models import Schema
from genvid.videos.schemas import CreateVideo, Page, VideoWarning, outcome_of

MAX_NAME = 200
MAX_VALUE = 5000

BatchStatus = Literal["running", "finished", "cancelled"]
ResultStatus = Literal["queued", "submitting", "rendering", "completed", "failed", "cancelled", "deleted"]


class BatchHeader(Schema):
    """What a batch is besides its rows: a name, and the template every row fills in."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME,
                             description="A name to find the batch by (one line).")
    template: CreateVideo = Field(
        description="The video every row makes, exactly as POST /api/videos takes it; "
                    "`script` and `title` may hold {{variables}}, named after the rows' "
                    "columns.")

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("The name must be a single line without control characters.")
        return value


class CreateBatch(BatchHeader):
    """POST /api/batches as JSON (or as multipart/form-data with a CSV file; see the operation)."""

    rows: list[dict[str, Annotated[str, Field(max_length=MAX_VALUE)]]] = Field(
        min_length=1, max_length=MAX_ROWS,
        description=f"1 to {MAX_ROWS:,} rows, each an object of column name -> value (text).")


# multipart/form-data: the same batch with its rows as a CSV file, as a browser's form or `curl -F` sends it.
MULTIPART_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["template", "rows"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": MAX_NAME, "description": "A name to find the batch by."},
        "template": {"type": "string", "contentMediaType": "application/json", "contentSchema": CreateVideo,
                     "description": "The template, as the JSON body's `template`."},
        "rows": {"type": "string", "contentMediaType": "text/csv",
                 "description": f"A CSV file (UTF-8, a byte-order mark allowed): a header line naming the "
                                f"columns, then 1 to {MAX_ROWS:,} rows."},
    },
}


class BatchQuery(Page):
    """GET /api/batches: keyset pagination."""


class BatchCounts(BaseModel):
    """The batch's rows by status; deleted counts rows whose video was deleted since."""

    queued: int
    submitting: int
    rendering: int
    completed: int
    failed: int
    cancelled: int
    deleted: int


class BatchTemplateOut(BaseModel):
    avatar_id: str
    voice_id: str
    script: str
    title: str | None
    aspect_ratio: str
    resolution: str
    background: str | None
    captions: bool


class BatchOut(BaseModel):
    """A batch as its owner sees it. status: running while any row waits or renders (even after a cancel,
    until the rows already rendering finish: `cancelled_at` says a cancel happened), then finished or
    cancelled."""

    id: str
    name: str | None
    status: BatchStatus
    done: bool = Field(description="No row will change any more.")
    template: BatchTemplateOut
    variables: list[str]
    row_count: int
    credits: int = Field(description="What the batch was charged.")
    refunded_credits: int = Field(
        description="Given back so far, for its failed and cancelled rows (those whose "
                    "video was not deleted since).")
    counts: BatchCounts
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, batch: models.Batch, counts: CountBatchVideosRow | None) -> BatchOut:
        """The API form of a batch with its progress (counts is None once every row's video was deleted)."""
        found = {status: getattr(counts, status) if counts else 0
                 for status in ("queued", "submitting", "rendering", "completed", "failed", "cancelled")}
        by_status = {**found, "deleted": batch.row_count - sum(found.values())}
        done = found["queued"] + found["submitting"] + found["rendering"] == 0
        finished_at = counts.last_finished_at if counts and done else (batch.cancelled_at if done else None)
        return cls.model_validate({
            "id": batch.id,
            "name": batch.name,
            "status": "running" if not done else ("cancelled" if batch.cancelled_at else "finished"),
            "done": done,
            "template": {name: getattr(batch, name) for name in BatchTemplateOut.model_fields},
            "variables": batch.variables,
            "row_count": batch.row_count,
            "credits": batch.credits,
            "refunded_credits": counts.refunded_credits if counts else 0,
            "counts": by_status,
            "created_at": batch.created_at,
            "updated_at": batch.updated_at,
            "cancelled_at": batch.cancelled_at,
            "finished_at": finished_at,
        })


class PreviewRow(BaseModel):
    row: int
    script: str
    title: str | None
    credits: int


class PreviewOut(BaseModel):
    """What POST /api/batches would charge for this batch, and the first row filled in. Nothing is stored."""

    row_count: int
    credits: int
    balance: int
    enough_credits: bool
    variables: list[str]
    first_row: PreviewRow


class CancelOut(BaseModel):
    batch: BatchOut
    cancelled_rows: int = Field(
        description="Rows this request stopped (0 when an earlier cancel stopped them).")
    refunded_credits: int = Field(description="Credits this request gave back.")


class ResultOut(BaseModel):
    """One row's video: its id, status and, once completed, a signed media link valid for 15 minutes."""

    row: int
    video_id: str | None = Field(description="null when the video was deleted since.")
    status: ResultStatus
    title: str | None
    credits: int | None
    video_url: str | None
    thumbnail_url: str | None
    failure: dict[str, str] | None
    warnings: list[VideoWarning]

    @classmethod
    def of(cls, row: int, video: models.Video | None, *, media_url: Callable[[str], str]) -> ResultOut:
        """One row's result; a deleted video leaves its row with status deleted."""
        if video is None:
            return cls(row=row, video_id=None, status="deleted", title=None, credits=None, video_url=None,
                       thumbnail_url=None, failure=None, warnings=[])
        return cls.model_validate({"row": row, "video_id": video.id, "status": video.status.value,
                                   "title": video.title, "credits": video.credits,
                                   **outcome_of(video, media_url=media_url)})
