"""A batch checked and priced before anything is charged: the template's {{variables}} against the rows'
columns, then every row filled in and held to the rules of POST /api/videos. Every problem of every row is
reported at once (up to MAX_PROBLEMS), so a file is fixed in one go; a batch with any problem is refused
whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from genvid.batches import template
from genvid.batches.rows import Row, Rows, problem
from genvid.errors import ValidationFailed
from genvid.videos import pricing
from genvid.videos.schemas import CreateVideo

MAX_PROBLEMS = 100


@dataclass(frozen=True)
class PlannedVideo:
    """One row's video: its script and title filled in, and its price."""

    row: int
    script: str
    title: str | None
    credits: int


@dataclass(frozen=True)
class Plan:
    """A valid batch: the template, the variables it uses, and one video per row."""

    template: CreateVideo
    variables: list[str]
    videos: list[PlannedVideo]

    @property
    def credits(self) -> int:
        """What the whole batch costs."""
        return sum(video.credits for video in self.videos)


def plan_batch(video_template: CreateVideo, rows: Rows) -> Plan:
    """The batch, every row filled in and priced; ValidationFailed listing the problems when there are any."""
    names = template.variables(video_template.script, video_template.title)
    unknown = [name for name in names if name not in rows.columns]
    if unknown:
        columns = ", ".join(rows.columns) or "none"
        raise ValidationFailed(details=[
            {"field": "template.script" if name in template.variables(video_template.script)
             else "template.title", "column": name, "type": "unknown_variable",
             "message": f"{{{{{name}}}}} is not a column of the rows (their columns: {columns})."}
            for name in unknown])
    if not rows.rows:
        raise ValidationFailed(details=[{"field": "rows", "type": "no_rows",
                                         "message": "There are no rows: add at least one under the header."}])
    base = video_template.model_dump()
    videos: list[PlannedVideo] = []
    problems: list[dict[str, Any]] = []
    for row in rows.rows:
        found = _missing_values(row, names)
        if not found:
            planned = _fill(row, video_template, base)
            if isinstance(planned, PlannedVideo):
                videos.append(planned)
                continue
            found = planned
        problems.extend(found)
    if problems:
        raise ValidationFailed(details=_capped(problems))
    return Plan(video_template, names, videos)


def _missing_values(row: Row, names: list[str]) -> list[dict[str, Any]]:
    found = []
    if row.extra_values:
        found.append(
            problem(row, f"This row has {row.extra_values} value(s) past the last named column. A value "
                         "holding a comma must be in double quotes.", "extra_values"))
    for name in names:
        if name in row.missing or name not in row.values:
            found.append(
                problem(row, f"No value for {{{{{name}}}}}: this row has no {name!r} column.", "missing",
                        column=name))
        elif not row.values[name]:
            found.append(problem(row, f"{{{{{name}}}}} is empty in this row.", "empty", column=name))
    return found


def _fill(row: Row, video_template: CreateVideo, base: dict[str, Any]) -> PlannedVideo | list[dict[str, Any]]:
    """The row's video, or the problems of its filled-in script and title (held to CreateVideo's rules)."""
    script = template.fill(video_template.script, row.values)
    title = template.fill(video_template.title, row.values) if video_template.title else None
    try:
        CreateVideo.model_validate({**base, "script": script, "title": title})
    except ValidationError as exc:
        return [problem(row, _filled_message(str(err["loc"][0]), err), err["type"])
                for err in exc.errors(include_url=False)]
    return PlannedVideo(row.number, script, title, pricing.render_credits(script))


def _filled_message(what: str, err: Any) -> str:
    if err["type"] == "string_too_long":
        limit = err.get("ctx", {}).get("max_length")
        return f"Filled in for this row, the {what} is {len(err.get('input') or '')} characters long; " \
               f"at most {limit:,} are allowed."
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"Filled in for this row, the {what} is not valid: {message}"


def _capped(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    left = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + [{"field": "rows", "type": "more_problems",
                                       "message": f"... and {left:,} more problems not listed here."}]
