"""Helpers for the batch tests: a template from the studio's catalogue, POST /api/batches as JSON or as a
CSV upload through the real API, and what the database then holds."""
from __future__ import annotations

import io
import json
from typing import Any, NamedTuple

from videos_fixtures import Studio


def template(studio: Studio, script: str = "Hello {{name}}, welcome to {{company}}.", **fields: Any
             ) -> dict[str, Any]:
    """A batch template with the first live avatar and voice."""
    avatar_id, voice_id = studio.first_ids()
    return {"avatar_id": avatar_id, "voice_id": voice_id, "script": script, **fields}


def people(count: int) -> list[dict[str, str]]:
    """count rows with the columns name and company."""
    return [{"name": f"Person {n}", "company": f"Company {n}"} for n in range(1, count + 1)]


def create_json(studio: Studio, headers: dict[str, str], rows: list[dict[str, str]], *,
                key: str | None = None, path: str = "/api/batches", **body: Any) -> Any:
    """POST /api/batches (or /api/batch-previews) with a JSON body."""
    payload = {"template": body.pop("template", None) or template(studio), "rows": rows, **body}
    extra = {"Idempotency-Key": key} if key else {}
    return studio.client.post(path, json=payload, headers={**headers, **extra})


def create_csv(studio: Studio, headers: dict[str, str], csv_bytes: bytes, *, key: str | None = None,
               path: str = "/api/batches", batch_template: dict[str, Any] | None = None,
               name: str | None = None) -> Any:
    """POST /api/batches (or /api/batch-previews) as multipart/form-data with the rows as a CSV file
    upload."""
    form: dict[str, Any] = {"template": json.dumps(batch_template or template(studio)),
                            "rows": (io.BytesIO(csv_bytes), "rows.csv", "text/csv")}
    if name is not None:
        form["name"] = name
    extra = {"Idempotency-Key": key} if key else {}
    return studio.client.post(path, data=form, content_type="multipart/form-data",
                              headers={**headers, **extra})


def csv_of(count: int) -> bytes:
    """A CSV file of count people (header name,company)."""
    lines = ["name,company"] + [f"Person {n},Company {n}" for n in range(1, count + 1)]
    return ("\r\n".join(lines) + "\r\n").encode()


def ledger_rows(studio: Studio, user_id: str) -> list[tuple[int, str, str]]:
    """(delta, reason, reference) of every ledger entry of the user but test grants, oldest first."""
    return [(int(delta), reason, reference) for delta, reason, reference in studio.conn.execute(
        "SELECT delta, reason, reference FROM credit_ledger WHERE user_id = %s AND reason <> 'test_grant' "
        "ORDER BY id", (user_id,)).fetchall()]


def stored(studio: Studio, user_id: str) -> tuple[int, int]:
    """(batches, videos) the user has rows for."""
    row = studio.conn.execute("SELECT (SELECT count(*) FROM batches WHERE user_id = %(u)s), "
                              "(SELECT count(*) FROM videos WHERE user_id = %(u)s)",
                              {"u": user_id}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


class RowVideo(NamedTuple):
    """A batch row's video, as stored."""

    id: str
    status: str
    script: str


def row_videos(studio: Studio, batch_id: str) -> list[RowVideo]:
    """The batch's videos, in row order."""
    return [RowVideo(*row) for row in studio.conn.execute(
        "SELECT id, status::text, script FROM videos WHERE batch_id = %s ORDER BY batch_row",
        (batch_id,)).fetchall()]


def video_ids(studio: Studio, batch_id: str) -> list[str]:
    """The ids of the batch's videos, in row order."""
    return [video.id for video in row_videos(studio, batch_id)]
