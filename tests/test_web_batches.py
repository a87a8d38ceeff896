"""Batches in a real browser: upload a CSV against a template, see each problem by row and column, then the
price; create the batch, watch its progress change without reloading, cancel the rows not started, download
the results. Chromium drives genvid over HTTP; the real worker code renders offline (`site.work()`)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from web_fixtures import WAIT_MS, Site, check_on_phone, phone_page, screenshot

EMAIL = "batch.maker@example.com"
SCRIPT = "Hello {{name}}, this video was made for you."


def _file(content: bytes) -> dict[str, Any]:
    return {"name": "people.csv", "mimeType": "text/csv", "buffer": content}


def test_a_person_runs_a_batch_from_a_csv_file(serve_site: Any, browser_page: Any, tmp_path: Path) -> None:
    # one render at a time: the rest wait, and can be cancelled
    site: Site = serve_site(heygen_max_concurrent=1)
    site.user(EMAIL, credits=10)
    page = browser_page
    site.sign_in(page, EMAIL)
    page.get_by_role("link", name="Batches").click()
    expect(page).to_have_url(site.url + "/batches")
    expect(page.get_by_text("No batches yet.")).to_be_visible()
    page.get_by_role("link", name="New batch").click()
    expect(page).to_have_url(site.url + "/batches/new")
    expect(page.get_by_label("Avatar", exact=True)).not_to_have_value("")

    # A file with a row that lacks the name: the problem is listed by row, line and column; nothing is
    # charged.
    page.get_by_label("Batch name (optional)").fill("Welcome videos")
    page.get_by_label("What should the avatar say?").fill(SCRIPT)
    page.get_by_label("CSV file").set_input_files(
        _file(b"\xef\xbb\xbfname,email\nAda,ada@example.com\n,bob@example.com\n"))
    page.get_by_role("button", name="Check rows and price").click()
    problems = page.locator("[data-problem-rows] tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("{{name}} is empty in this row.")
    expect(problems.first.locator("td").nth(0)).to_have_text("2")
    expect(problems.first.locator("td").nth(1)).to_have_text("3")
    expect(page.get_by_role("button", name="Create batch")).to_be_disabled()
    screenshot(page, "60-batch-problems")

    # The corrected file: three rows priced at three credits, the first one shown filled in.
    page.get_by_label("CSV file").set_input_files(
        _file(b'name,email\nAda,ada@example.com\n"Bob ""B""",b@x\nCy,c@x\n'))
    page.get_by_role("button", name="Check rows and price").click()
    expect(page.locator("[data-price-line]")).to_have_text("3 videos for 3 credits.")
    expect(page.locator("[data-balance-line]")).to_contain_text("7 credits will be left")
    expect(page.locator("[data-first-script]")).to_have_text("Hello Ada, this video was made for you.")
    expect(page.locator("[data-problems]")).to_be_hidden()
    screenshot(page, "61-batch-price")
    page.get_by_role("button", name="Create batch").click()
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/batches/[A-Za-z0-9]+$"))
    batch_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="Welcome videos")).to_be_visible()
    expect(page.locator("[data-status-text]")).to_have_text("0 of 3 rows done")

    # One render slot: the worker renders the first row; the page follows without a reload.
    assert site.work() >= 1
    expect(page.locator("[data-status-text]")).to_have_text("1 of 3 rows done", timeout=WAIT_MS)
    expect(page.locator("[data-results] tr").first).to_contain_text("Ready")
    screenshot(page, "62-batch-progress")

    # Cancel the two rows that have not started: their two credits come back.
    page.get_by_role("button", name="Cancel the rows not started").click()
    page.get_by_role("button", name="Cancel the rest").click()
    expect(page.locator("[data-cancel-status]")).to_have_text(
        "2 rows were cancelled; 2 credits were given back.")
    expect(page.locator("[data-status-badge]")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Cancel the rows not started")).to_be_hidden()
    statuses = page.locator("[data-results] tr td:nth-child(2)")
    expect(statuses).to_have_text([re.compile("Ready"), re.compile("Cancelled"), re.compile("Cancelled")])
    screenshot(page, "63-batch-cancelled")

    # The results as CSV, from the download link.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download results (CSV)").click()
    saved = tmp_path / "results.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(row["row"], row["status"]) for row in rows] == [("1", "completed"), ("2", "cancelled"),
                                                             ("3", "cancelled")]
    assert rows[0]["video_page"].endswith(f"/videos/{rows[0]['video_id']}")

    # The row's video opens from the results; the list shows the batch; the dashboard's ledger links to it.
    page.locator("[data-results] tr").first.get_by_role("link").click()
    expect(page).to_have_url(f"{site.url}/videos/{rows[0]['video_id']}")
    expect(page.locator("[data-status-badge]")).to_have_text("Ready")
    page.goto(site.url + "/batches")
    expect(page.get_by_role("link", name="Welcome videos")).to_be_visible()
    page.goto(site.url + "/dashboard")
    expect(page.get_by_text("Refund for the cancelled rows of a batch")).to_be_visible()
    balance = site.conn.execute("SELECT balance FROM credit_balances b JOIN \"user\" u ON u.id = b.user_id "
                                "WHERE u.email = %s", (EMAIL,)).fetchone()
    assert balance is not None and balance[0] == 10 - 3 + 2

    # The batch pages fit a phone and label every control.
    with phone_page(page.context.browser) as phone:
        site.sign_in(phone, EMAIL)
        check_on_phone(phone, site, [("/batches", "batches"), ("/batches/new", "batch-new"),
                                     (f"/batches/{batch_id}", "batch")], "64-phone")
