"""A batch's results, row by row: as the API's JSON, and as a CSV file to put beside the rows that made them.

Media links are signed and last 15 minutes (fetch the results again for fresh ones); `video_page` is the web
app's page of the video, which does not expire. Cells that a spreadsheet would run as a formula (starting
with = + - @) are written with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

from db import models

CSV_COLUMNS = ("row", "video_id", "status", "video_url", "video_page", "failure_code", "failure_message")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def result_json(row: int, video: models.Video | None, *, media_url: Callable[[str], str]) -> dict[str, Any]:
    """One row's result; a deleted video leaves its row with status deleted."""
    if video is None:
        return {"row": row, "video_id": None, "status": "deleted", "title": None, "credits": None,
                "video_url": None, "thumbnail_url": None, "failure": None, "warnings": []}
    failure = (
        {"code": video.failure_code or "failed", "message": video.failure_message or "The render failed."}
        if video.status in (models.VideoStatus.FAILED, models.VideoStatus.CANCELLED) else None)
    return {"row": row, "video_id": video.id, "status": video.status.value, "title": video.title,
            "credits": video.credits,
            "video_url": media_url(video.video_key) if video.video_key else None,
            "thumbnail_url": media_url(video.thumbnail_key) if video.thumbnail_key else None,
            "failure": failure, "warnings": list(video.warnings or [])}


def results_csv(results: Sequence[dict[str, Any]], *, page_url: Callable[[str], str]) -> str:
    """The CSV file of results (result_json's dicts), a header line first, lines ending in CRLF (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        failure = result["failure"] or {}
        video_id = result["video_id"]
        writer.writerow([_cell(value) for value in (
            result["row"], video_id or "", result["status"], result["video_url"] or "",
            page_url(video_id) if video_id else "", failure.get("code", ""), failure.get("message", ""))])
    return out.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
