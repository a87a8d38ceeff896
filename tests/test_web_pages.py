"""The page shells: served by genvid, with their security headers; readable on a phone; usable by keyboard."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from web_fixtures import Site, check_on_phone, phone_page

from genvid.config import OAuthProviderConfig
from genvid.web.pages import social_providers

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

PAGES = ["/", "/signup", "/signin", "/forgot-password", "/reset-password", "/verify-email", "/dashboard",
         "/billing/success", "/billing/cancel", "/videos", "/videos/new", "/videos/some-id", "/account",
         "/batches", "/batches/new", "/batches/some-id", "/api-keys", "/webhooks", "/webhooks/some-id"]
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_with_a_strict_csp_and_no_inline_script(client: FlaskClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert not INLINE_SCRIPT.search(page.data)
    assert b'<html lang="en">' in page.data and b'name="viewport"' in page.data


def test_the_stylesheet_and_scripts_are_served(client: FlaskClient) -> None:
    html = client.get("/videos/new").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    assert "/assets/app.css" in assets and "/assets/js/pages/video_new.js" in assets
    for asset in assets + ["/assets/js/app.js"]:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        answer.close()


def test_unknown_pages_get_an_html_404_and_the_api_keeps_json(client: FlaskClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert b"There is no page at this address." in missing.data
    assert "Content-Security-Policy" in missing.headers
    posted = client.post("/signin", data={"email": "a@b.c", "password": "secret"})
    assert posted.status_code == 405 and b"JavaScript" in posted.data
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "NOT_FOUND"


def test_the_portal_return_address_lands_on_the_credits(client: FlaskClient) -> None:
    answer = client.get("/billing")
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard#credits"


def test_sign_in_offers_a_button_per_configured_social_provider(app: Flask,
                                                                make_app: Callable[..., Flask]) -> None:
    """None without providers; Google and GitHub when their id and secret are set, then OAUTH_PROVIDERS in
    order."""
    assert social_providers(app.config["GENVID"]) == []
    with app.test_request_context("/signin"):
        assert "data-social-provider" not in app.test_client().get("/signin").get_data(as_text=True)
    config = app.config["GENVID"].with_overrides(
        google_client_id="g-id", google_client_secret="g-secret", github_client_id="gh-id",
        github_client_secret="gh-secret", oauth_providers=(
            OAuthProviderConfig(provider_id="acme-sso", client_id="a", authorization_url="https://a/x",
                                token_url="https://a/t"),))
    assert [(b.id, b.name) for b in social_providers(config)] == [
        ("google", "Google"), ("github", "GitHub"), ("acme-sso", "Acme Sso")]
    html = make_app(google_client_id="g-id", google_client_secret="g-secret").test_client().get("/signin")
    assert 'data-social-provider="google"' in html.get_data(as_text=True)
    assert "Continue with Google" in html.get_data(as_text=True)


def test_checkout_returns_to_genvid_itself_by_default(app: Flask) -> None:
    """APP_URL unset: Checkout and the portal send people back to genvid's own pages."""
    config = app.config["GENVID"]
    assert config.app_url is None and config.app_base_url == "http://localhost:8080"


def _one_finished_video_and_endpoint(site: Site, email: str) -> tuple[str, str]:
    """A rendered video, and a webhook endpoint with a long URL (its page must wrap it on a phone)."""
    from factories import bearer, create_session
    user_id = site.user(email, credits=5)
    client = site.app.test_client()
    headers = bearer(create_session(site.conn, user_id=user_id))
    created = client.post("/api/videos", headers=headers, json={
        "avatar_id": "local_ada", "voice_id": "local_en_f", "script": "Small screens welcome.",
        "title": "Phone"})
    assert created.status_code == 202
    endpoint = client.post("/api/webhooks/endpoints", headers=headers, json={
        "url": "http://127.0.0.1:9/" + "a-rather-long-path-segment/" * 6, "event_types": ["video.completed"]})
    assert endpoint.status_code == 201
    assert client.post("/api/auth/api-key/create", headers=headers,
                       json={"name": "Phone key"}).status_code == 200
    site.work()
    return str(created.get_json()["data"]["id"]), str(endpoint.get_json()["data"]["id"])


def test_every_page_fits_a_phone_and_labels_every_control(site: Site, browser: Any) -> None:
    """At 390x844 no page scrolls sideways, and every visible form control has a label (or an aria-label)."""
    video_id, endpoint_id = _one_finished_video_and_endpoint(site, "phone@example.com")
    with phone_page(browser) as page:
        check_on_phone(page, site, [("/", "home"), ("/signup", "signup"), ("/signin", "signin"),
                                    ("/forgot-password", "forgot-password"),
                                    ("/reset-password?token=x", "reset-password"),
                                    ("/no-such-page", "not-found")], "50-phone")
        site.sign_in(page, "phone@example.com")
        check_on_phone(page, site, [("/dashboard", "dashboard"), ("/videos/new", "new-video"),
                                    (f"/videos/{video_id}", "video"), ("/videos", "videos"),
                                    ("/account", "account"), ("/verify-email", "verify-email"),
                                    ("/api-keys", "api-keys"), ("/webhooks", "webhooks"),
                                    (f"/webhooks/{endpoint_id}", "webhook")], "51-phone")


def test_signing_in_and_making_a_choice_work_from_the_keyboard(site: Site, browser_page: Any) -> None:
    """Tab from the top of the page to the fields, type, Enter; then pick an avatar with the arrow keys."""
    page = browser_page
    site.user("keys@example.com", credits=2)
    page.goto(site.url + "/signin")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(10):                                            # to the email field, whatever comes first
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type("keys@example.com")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    from factories import DEFAULT_PASSWORD
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(site.url + "/dashboard")
    page.goto(site.url + "/videos/new")
    expect(page.locator("[data-avatars] img")).to_have_count(4)
    page.get_by_label("Ada").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Ben")).to_be_checked()
    focus_ring = page.evaluate("getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert focus_ring != "none"


def test_a_page_opened_at_another_address_says_where_signing_in_works(site: Site, browser_page: Any) -> None:
    """The auth endpoints refuse forms from an origin genvid was not configured with (here localhost, while
    BETTER_AUTH_URL names 127.0.0.1): the page says so up front and links to the right address."""
    page = browser_page
    page.goto(site.url + "/signin")
    expect(page.locator("[data-wrong-origin]")).to_be_hidden()
    other = site.url.replace("127.0.0.1", "localhost")
    page.goto(other + "/signin")
    warning = page.locator("[data-wrong-origin]")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link")).to_have_attribute("href", site.url + "/signin")
    page.get_by_label("Email address").fill("nobody@example.com")
    page.get_by_label("Password").fill("whatever it is")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-form-error]")).to_contain_text(
        "the page was opened at an address genvid was not set up for")


def test_pages_refused_an_event_stream_follow_progress_by_asking(serve_site: Callable[..., Site],
                                                                 browser_page: Any) -> None:
    """With the user's one event stream (EVENT_STREAMS_PER_USER=1) held by another client, the video and batch
    pages are refused theirs (429) and follow the render by asking the API every few seconds instead: both
    reach their final state without a reload."""
    import requests
    from factories import bearer, create_session
    from web_fixtures import WAIT_MS

    site = serve_site(event_streams_per_user=1)
    user_id = site.user("asker@example.com", credits=5)
    headers = bearer(create_session(site.conn, user_id=user_id))
    api = site.app.test_client()
    template = {"avatar_id": "local_ada", "voice_id": "local_en_f", "script": "Hello {{name}}."}
    video = api.post("/api/videos", headers=headers, json={**template, "script": "Asked, not streamed."})
    batch = api.post("/api/batches", headers=headers, json={"template": template, "rows": [{"name": "Ada"}]})
    assert (video.status_code, batch.status_code) == (202, 202), (video.get_json(), batch.get_json())
    video_id, batch_id = video.get_json()["data"]["id"], batch.get_json()["data"]["id"]
    with requests.get(f"{site.url}/api/videos/{video_id}/events", headers=headers, stream=True,
                      timeout=WAIT_MS / 1000) as held:
        assert held.status_code == 200
        site.sign_in(browser_page, "asker@example.com")
        pages = {}
        for kind, thing_id in (("videos", video_id), ("batches", batch_id)):
            page = browser_page if kind == "videos" else browser_page.context.new_page()
            with page.expect_response(lambda r, k=kind, i=thing_id: r.url.endswith(f"/api/{k}/{i}/events")
                                      ) as refused:
                page.goto(f"{site.url}/{kind}/{thing_id}")
            assert refused.value.status == 429
            expect(page.locator("[data-status-badge]")).not_to_have_text("…")
            pages[kind] = page
        pages["videos"].evaluate("window.marker = 'same document'")
        pages["batches"].evaluate("window.marker = 'same document'")
        assert site.work() >= 1
        expect(pages["videos"].locator("[data-status-badge]")).to_have_text("Ready")
        expect(pages["batches"].locator("[data-status-badge]")).to_have_text("Finished")
        expect(pages["batches"].locator("[data-status-text]")).to_have_text("1 of 1 row done")
        assert all(page.evaluate("window.marker") == "same document" for page in pages.values())
