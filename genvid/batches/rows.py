"""A batch's rows, from a CSV file or a JSON list: each row's values by column name, and where it came from.

CSV rules (what spreadsheets export): UTF-8 with or without a byte-order mark; the first non-blank line names
the columns; values may be quoted ("..."), and a quoted value may hold commas, doubled quotes and line breaks
(kept as newlines), but nothing may follow its closing quote but the separator;
a comma is the separator unless the header line has none and has semicolons (or tabs) instead; blank lines and
rows whose every value is blank are skipped; values and column names lose surrounding spaces. A row with fewer
values than columns lacks the last ones (an error only where the template needs them); a row with more values
than columns, a header column named twice, or broken quoting is an error with its line number. At most
MAX_ROWS rows: one more and the file is refused whole.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genvid.errors import ValidationFailed

MAX_ROWS = 1000
_SEPARATORS = (",", ";", "\t")


@dataclass(frozen=True)
class Row:
    """One row: number is its place among the rows (1-based; results use it),
    line the CSV line it starts on."""

    number: int
    values: Mapping[str, str]
    line: int | None = None
    missing: tuple[str, ...] = ()        # columns a short CSV row has no value for
    extra_values: int = 0                # non-blank values past the last column


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


def problem(row: Row, message: str, kind: str, column: str | None = None) -> dict[str, Any]:
    """One error detail about a row (and a column of it): `field` is the path into a JSON body's rows
    (0-based, as the body's own validation errors say), `row` the 1-based row number, `line` the CSV line."""
    detail: dict[str, Any] = {
        "field": f"rows.{row.number - 1}" + (f".{column}" if column is not None else ""),
        "row": row.number, "column": column, "message": message, "type": kind}
    if row.line is not None:
        detail["line"] = row.line
    return detail


def _refuse(message: str, kind: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(details=[{"field": "rows", "message": message, "type": kind, **extra}])


def too_many_rows() -> ValidationFailed:
    return _refuse(f"A batch has at most {MAX_ROWS:,} rows; split the file into several batches.",
                   "too_many_rows")


def from_json(rows: Sequence[Mapping[str, str]]) -> Rows:
    """Rows given as JSON objects (column -> value); the columns are every key any row has."""
    if len(rows) > MAX_ROWS:
        raise too_many_rows()
    columns: dict[str, None] = {}
    for values in rows:
        columns.update(dict.fromkeys(values))
    return Rows(list(columns), [Row(number, {key: value.strip() for key, value in values.items()})
                                for number, values in enumerate(rows, start=1)])


def from_csv(data: bytes) -> Rows:
    """Rows of a CSV file (the rules above); ValidationFailed for a file that cannot be read as one."""
    try:
        text = data.decode("utf-8-sig")        # -sig: drops the byte-order mark Excel writes
    except UnicodeDecodeError:
        raise _refuse("The file is not UTF-8 text. Save it as \"CSV UTF-8\".", "encoding") from None
    records = _records(text)
    header = next(records, None)
    if header is None:
        raise _refuse("The file is empty: its first line must name the columns.", "empty")
    header_line, names = header
    columns, unnamed = _columns(names, header_line)
    rows: list[Row] = []
    for line, values in records:
        if len(rows) == MAX_ROWS:
            raise too_many_rows()
        rows.append(_row(len(rows) + 1, line, values, names, columns, unnamed))
    return Rows(columns, rows)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its values) for every record with a non-blank value."""
    first_line = text.split("\n", 1)[0]
    separator = next((s for s in _SEPARATORS if s in first_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, skipinitialspace=True,
                        strict=True)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _refuse(
                f"The row starting on line {start} is not valid CSV ({exc}). A value holding a quote, a "
                "separator or a line break must be in double quotes, with its quotes doubled, and "
                "nothing but a separator may follow its closing quote.", "malformed_csv",
                line=start) from None
        if any(value.strip() for value in values):
            yield start, values


def _columns(names: list[str], line: int) -> tuple[list[str], set[int]]:
    """The column names and the positions of unnamed columns (allowed only while they hold no value)."""
    columns: list[str] = []
    unnamed: set[int] = set()
    for position, raw in enumerate(names):
        name = raw.strip()
        if not name:
            unnamed.add(position)
        elif name in columns:
            raise _refuse(f"Line {line}: the column {name!r} is named twice.", "duplicate_column", line=line)
        else:
            columns.append(name)
    return columns, unnamed


def _row(number: int, line: int, values: list[str], names: list[str], columns: list[str],
         unnamed: set[int]) -> Row:
    named = {
        names[i].strip(): _text(value) for i, value in enumerate(values[:len(names)]) if i not in unnamed}
    stray = [value for i, value in enumerate(values) if (i >= len(names) or i in unnamed) and value.strip()]
    missing = tuple(column for column in columns if column not in named)
    return Row(number, named, line=line, missing=missing, extra_values=len(stray))


def _text(value: str) -> str:
    """A value without surrounding spaces, its line breaks (a quoted value may hold CRLF) as newlines."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()
