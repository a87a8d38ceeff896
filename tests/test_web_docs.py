"""The API reference at /api/docs: Swagger UI, served by genvid itself, rendering /api/openapi.json."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import expect
from web_fixtures import Site, screenshot


def test_the_reference_renders_every_documented_operation(site: Site, browser_page: Any) -> None:
    """Every path of the OpenAPI document shows up as an operation; the page loads nothing from elsewhere and
    breaks no Content-Security-Policy rule (the fixture fails the test on a violation)."""
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    document = page.request.get(site.url + "/api/openapi.json").json()
    page.goto(site.url + "/api/docs")
    expect(page.get_by_role("heading", name="genvid API")).to_be_visible()
    operations = page.locator(".opblock")
    expected = sum(len(methods) for methods in document["paths"].values())
    expect(operations).to_have_count(expected)
    create = page.locator(".opblock-post", has=page.locator("[data-path='/api/videos']"))
    expect(create).to_contain_text("Queue a render")
    create.locator(".opblock-summary").first.click()                 # open it: the request body schema shows
    expect(create).to_contain_text("avatar_id")
    screenshot(page, "20-api-docs")
    assert requested and all(url.startswith(site.url) for url in requested), requested


def test_reference_assets_are_served_from_the_wheel_and_nothing_else(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert b"<script>" not in page.data                               # no inline script
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
    for other in ("oauth2-redirect.html", "LICENSE", "..%2F__init__.py", "index.css"):
        answer = client.get(f"/api/docs/assets/{other}")
        assert answer.status_code == 404 and answer.get_json()["success"] is False
