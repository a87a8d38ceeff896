"""A batch's results, row by row, as a CSV file to put beside the rows that made them (their JSON is
genvid.batches.schemas.ResultOut).

Media links are signed and last 15 minutes (fetch the results again for fresh ones); `video_page` is the web
app's page of the video, which does not expire. Cells that a spreadsheet would run as a formula (starting
with = + - @) are written with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

CSV_COLUMNS = ("row", "video_id", "status", "video_url", "video_page", "failure_code", "failure_message")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def results_csv(results: Sequence[dict[str, Any]], *, page_url: Callable[[str], str]) -> str:
    """The CSV file of results (ResultOut's JSON, row by row), a header line first, lines ending in CRLF
    (RFC 4180)."""
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
