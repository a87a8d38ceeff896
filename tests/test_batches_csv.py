"""Batches from CSV uploads: what spreadsheets really export is read right, and every problem is reported by
row, column and line before anything is charged (a refused batch writes nothing at all)."""
from __future__ import annotations

from typing import Any

import pytest
from batch_helpers import (
    create_csv,
    create_json,
    csv_of,
    ledger_rows,
    people,
    row_videos,
    stored,
    template,
)
from videos_fixtures import Studio


def _scripts(studio: Studio, batch_id: str) -> list[str]:
    return [video.script for video in row_videos(studio, batch_id)]


def _refused(studio: Studio, user_id: str, answer: Any, balance: int = 100) -> list[dict[str, Any]]:
    """The 422's details, after checking that nothing at all was written or charged."""
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["success"] is False and body["data"] is None and body["error"]["code"] == "VALIDATION_ERROR"
    assert stored(studio, user_id) == (0, 0)
    assert ledger_rows(studio, user_id) == [] and studio.balance(user_id) == balance
    details: list[dict[str, Any]] = body["error"]["details"]
    return details


def test_a_spreadsheet_export_with_bom_crlf_quotes_and_line_breaks_is_read_exactly(
        heygen_studio: Studio) -> None:
    """Excel's "CSV UTF-8": a byte-order mark, CRLF line ends, quoted values holding commas, doubled quotes
    and a line break (kept as a newline), non-ASCII text, spaces around values, and blank lines (also ones of
    bare commas) between rows."""
    user_id, headers = heygen_studio.user()
    data = ("\ufeffname , company\r\n"
            '"Zoë ""Z"" Smith",  "Acme, Inc."\r\n'
            "\r\n"
            ",\r\n"
            'Bob,"Line one\r\nline two"\r\n'
            "Chloé,Ünïcode GmbH\r\n").encode()
    answer = create_csv(heygen_studio, headers, data)
    assert answer.status_code == 202, answer.get_json()
    batch = answer.get_json()["data"]
    assert batch["row_count"] == 3 and batch["variables"] == ["name", "company"]
    assert _scripts(heygen_studio, batch["id"]) == [
        'Hello Zoë "Z" Smith, welcome to Acme, Inc..',
        "Hello Bob, welcome to Line one\nline two.",
        "Hello Chloé, welcome to Ünïcode GmbH.",
    ]
    assert ledger_rows(heygen_studio, user_id) == [(-3, "batch", batch["id"])]


def test_semicolon_separated_files_and_a_file_without_a_final_newline_are_read(heygen_studio: Studio) -> None:
    """A European spreadsheet's export (semicolons, no newline at the end) and an unused extra column."""
    _, headers = heygen_studio.user()
    answer = create_csv(heygen_studio, headers, b"name;company;email\nAnn;Acme, Ltd;ann@example.com")
    assert answer.status_code == 202, answer.get_json()
    assert _scripts(heygen_studio, answer.get_json()["data"]["id"]) == ["Hello Ann, welcome to Acme, Ltd."]


def test_a_template_variable_missing_from_the_header_is_refused_by_name(heygen_studio: Studio) -> None:
    """{{company}} with no company column: one error on the template naming the columns there are."""
    user_id, headers = heygen_studio.user()
    details = _refused(heygen_studio, user_id, create_csv(heygen_studio, headers, b"name,email\nAnn,a@b.c\n"))
    assert details == [{"field": "template.script", "column": "company", "type": "unknown_variable",
                        "message": "{{company}} is not a column of the rows (their columns: name, email)."}]


def test_unknown_variables_in_the_title_are_refused_too(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user()
    batch_template = template(heygen_studio, title="For {{ first name }}")
    details = _refused(heygen_studio, user_id, create_csv(heygen_studio, headers, csv_of(2),
                                                          batch_template=batch_template))
    assert [(d["field"], d["column"]) for d in details] == [("template.title", "first name")]


def test_rows_missing_or_emptying_a_needed_column_are_reported_by_row_column_and_line(
        heygen_studio: Studio) -> None:
    """Row 2 stops before the company column; row 3 leaves the name empty. Both are reported, with the line
    each starts on (a quoted line break moves the lines on), and nothing is charged."""
    user_id, headers = heygen_studio.user()
    data = b'name,company\n"Ann\nAnnson",Acme\nBob\n,Initech\nDan,Globex\n'
    details = _refused(heygen_studio, user_id, create_csv(heygen_studio, headers, data))
    assert details == [
        {"field": "rows.1.company", "row": 2, "column": "company", "line": 4, "type": "missing",
         "message": "No value for {{company}}: this row has no 'company' column."},
        {"field": "rows.2.name", "row": 3, "column": "name", "line": 5, "type": "empty",
         "message": "{{name}} is empty in this row."},
    ]


def test_a_row_with_more_values_than_columns_is_refused(heygen_studio: Studio) -> None:
    """An unquoted comma splits a value: the row has a value past the last column."""
    user_id, headers = heygen_studio.user()
    details = _refused(heygen_studio, user_id, create_csv(heygen_studio, headers,
                                                          b"name,company\nAnn,Acme\nBob,Smith, Jones & Co\n"))
    assert [(d["row"], d["line"], d["type"]) for d in details] == [(2, 3, "extra_values")]


def test_a_1001_row_file_is_refused_whole_and_1000_rows_are_accepted(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user(credits=2000)
    details = _refused(heygen_studio, user_id, create_csv(heygen_studio, headers, csv_of(1001)), balance=2000)
    assert details == [{"field": "rows", "type": "too_many_rows",
                        "message": "A batch has at most 1,000 rows; split the file into several batches."}]
    blank_lines_do_not_count = csv_of(1000) + b"\r\n,\r\n\r\n"
    accepted = create_csv(heygen_studio, headers, blank_lines_do_not_count)
    assert accepted.status_code == 202, accepted.get_json()
    assert accepted.get_json()["data"]["row_count"] == 1000
    assert stored(heygen_studio, user_id) == (1, 1000) and heygen_studio.balance(user_id) == 1000


def test_the_json_rows_limit_is_the_same(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user()
    details = _refused(heygen_studio, user_id, create_json(heygen_studio, headers, people(1001)))
    assert [d["field"] for d in details] == ["rows"]


@pytest.mark.parametrize(("data", "kind", "line"), [
    (b"", "empty", None),
    (b"\r\n\r\n", "empty", None),
    (b"name,company\n", "no_rows", None),
    (b'name,company\nAnn,"Acme\nBob,Initech\n', "malformed_csv", 2),
    (b'name,company\nAnn,"Acme" Ltd\n', "malformed_csv", 2),
    (b'name,company\nAnn,Ac"me"x\n', None, None),
    ("name,company\nAnn,Café\n".encode("latin-1"), "encoding", None),
    (b"name,name\nAnn,Ann\n", "duplicate_column", 1),
])
def test_files_that_are_not_usable_csv_are_refused_with_a_reason(heygen_studio: Studio, data: bytes,
                                                                  kind: str | None, line: int | None) -> None:
    """Empty files, a header without rows, an unclosed quote, text after a closing quote, Latin-1 text, a
    column named twice. (A stray quote inside an unquoted value is taken as text, as spreadsheets take it.)"""
    user_id, headers = heygen_studio.user()
    answer = create_csv(heygen_studio, headers, data)
    if kind is None:
        assert answer.status_code == 202, answer.get_json()
        return
    details = _refused(heygen_studio, user_id, answer)
    assert [d["type"] for d in details] == [kind]
    assert details[0].get("line") == line
    assert details[0]["message"]


def test_a_filled_in_script_is_held_to_the_video_rules(heygen_studio: Studio) -> None:
    """A row whose value makes the script longer than 5,000 characters, one with a control character (in the
    script and the title it fills), and one whose title would take two lines: each refused for its row."""
    user_id, headers = heygen_studio.user()
    rows = [{"name": "Ann", "company": "x" * 5000}, {"name": "B\x07b", "company": "Acme"},
            {"name": "Cy", "company": "Acme"}]
    batch_template = template(heygen_studio, title="For {{name}}")
    rows[2]["name"] = "Cy\nSmith"
    details = _refused(heygen_studio, user_id,
                       create_json(heygen_studio, headers, rows, template=batch_template))
    assert [(d["row"], d["field"], d["type"]) for d in details] == [
        (1, "rows.0", "string_too_long"), (2, "rows.1", "value_error"), (2, "rows.1", "value_error"),
        (3, "rows.2", "value_error")]
    assert "at most 5,000" in details[0]["message"] and "U+0007" in details[1]["message"]
    assert "the title" in details[2]["message"] and "the title" in details[3]["message"]


def test_at_most_100_problems_are_listed(heygen_studio: Studio) -> None:
    user_id, headers = heygen_studio.user()
    details = _refused(heygen_studio, user_id,
                       create_json(heygen_studio, headers, [{"name": "", "company": ""}] * 80))
    assert len(details) == 101 and details[-1] == {"field": "rows", "type": "more_problems",
                                                   "message": "... and 60 more problems not listed here."}


def test_a_value_holding_braces_is_inserted_as_it_is(heygen_studio: Studio) -> None:
    """Filling in is one pass: a value that looks like a variable is text."""
    _, headers = heygen_studio.user()
    answer = create_json(heygen_studio, headers, [{"name": "{{company}}", "company": "Acme"}])
    assert answer.status_code == 202
    assert _scripts(heygen_studio, answer.get_json()["data"]["id"]) == ["Hello {{company}}, welcome to Acme."]


def test_multipart_fields_are_checked_like_the_json_body(heygen_studio: Studio) -> None:
    """A template that is not JSON is 400; a bad template field or an unknown form field is 422; no rows field
    is 422."""
    _, headers = heygen_studio.user()
    client = heygen_studio.client
    not_json = client.post("/api/batches", data={"template": "{", "rows": "name\nAnn\n"},
                           content_type="multipart/form-data", headers=headers)
    assert not_json.status_code == 400 and not_json.get_json()["error"]["code"] == "MALFORMED_JSON"
    bad = create_csv(heygen_studio, headers, csv_of(1),
                     batch_template=template(heygen_studio, resolution="8k"))
    assert bad.status_code == 422
    assert [d["field"] for d in bad.get_json()["error"]["details"]] == ["template.resolution"]
    extra = client.post("/api/batches", data={"template": "{}", "rows": "a\n1\n", "colour": "red"},
                        content_type="multipart/form-data", headers=headers)
    assert extra.status_code == 422 and extra.get_json()["error"]["details"][0]["field"] == "colour"
    no_rows = client.post("/api/batches", data={"template": "{}"}, content_type="multipart/form-data",
                          headers=headers)
    assert no_rows.status_code == 422
    assert [d["field"] for d in no_rows.get_json()["error"]["details"]] == ["rows"]
