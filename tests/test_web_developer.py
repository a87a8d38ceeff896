"""The developer pages in a real browser: API keys (made, shown once, used against /api/videos with x-api-key,
revoked and then refused) and webhooks (an endpoint added with its secret shown once, a real delivery to a
receiver on 127.0.0.1 verified with the Standard Webhooks reference library, the delivery log with status,
latency and answer, redelivery, disabling, rotating the secret, deleting)."""
from __future__ import annotations

import re
from typing import Any

import requests
from factories import bearer, create_session
from playwright.sync_api import expect
from web_fixtures import WAIT_MS, Site, screenshot
from webhooks_fixtures import Behaviour, Receiver, body_of

from genvid.auth.apikeys import hash_key

KEY_SHAPE = re.compile(r"^gv_[A-Za-z]{64}$")
# What Copy says: copied, or (where the page has no clipboard) selected for the person to copy.
COPIED = re.compile(r"^(Copied\.|Selected: press Ctrl\+C \(⌘C\) to copy\.)$")


def _videos(site: Site, key: str) -> requests.Response:
    return requests.get(f"{site.url}/api/videos", headers={"x-api-key": key}, timeout=WAIT_MS / 1000)


def test_an_api_key_is_shown_once_works_with_x_api_key_and_stops_when_revoked(site: Site,
                                                                              browser_page: Any) -> None:
    page = browser_page
    user_id = site.user("builder@example.com", credits=3)
    site.sign_in(page, "builder@example.com")
    page.get_by_role("link", name="API keys").click()
    expect(page).to_have_url(site.url + "/api-keys")
    expect(page.locator("[data-keys-empty]")).to_be_visible()

    page.get_by_role("button", name="Create key").click()             # a key needs a name
    expect(page.locator("#name-error")).to_have_text("Name the key, so you can tell it apart later.")
    page.get_by_label("Name").fill("Nightly batch")
    page.get_by_label("Expires").select_option(label="In 30 days")
    page.get_by_role("button", name="Create key").click()
    shown = page.locator("[data-new-key-value]")
    expect(shown).to_have_value(KEY_SHAPE)
    key = shown.input_value()
    screenshot(page, "60-api-key-created")
    row = page.locator("[data-keys] tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Nightly batch")
    expect(row.locator("td").nth(1)).to_have_text(f"{key[:6]}…")
    expect(row.locator("td").nth(3)).to_have_text("Never")             # not used yet
    stored = site.conn.execute('SELECT "key", "expiresAt" - "createdAt" FROM apikey WHERE "referenceId" = %s',
                               (user_id,)).fetchone()
    # kept only as its hash
    assert stored is not None and stored[0] == hash_key(key) and key not in stored[0]
    assert stored[1].days == 30

    # The key works on its own, from outside the browser: no cookie, no Origin, just x-api-key.
    listed = _videos(site, key)
    assert listed.status_code == 200 and listed.json()["data"] == []
    made = requests.post(f"{site.url}/api/videos", headers={"x-api-key": key}, timeout=WAIT_MS / 1000,
                         json={"avatar_id": "local_ada", "voice_id": "local_en_f",
                               "script": "Made with a key."})
    assert made.status_code == 202, made.text
    assert [video["id"] for video in _videos(site, key).json()["data"]] == [made.json()["data"]["id"]]

    # Shown once: a reload lists the key by its start and when it was last used, never the key itself.
    page.reload()
    expect(row).to_have_count(1)
    expect(page.locator("[data-new-key]")).to_be_hidden()
    expect(row.locator("td").nth(3)).not_to_have_text("Never")
    assert key not in page.content()

    page.get_by_role("button", name="Revoke Nightly batch").click()
    dialog = page.locator("[data-revoke-dialog]")
    expect(dialog).to_contain_text("Revoke “Nightly batch”?")
    dialog.get_by_role("button", name="Keep it").click()
    expect(row).to_have_count(1)
    assert _videos(site, key).status_code == 200                       # kept
    page.get_by_role("button", name="Revoke Nightly batch").click()
    dialog.get_by_role("button", name="Revoke", exact=True).click()
    expect(page.locator("[data-keys-status]")).to_have_text(
        "“Nightly batch” was revoked: calls with it are refused from now on.")
    expect(row).to_have_count(0)
    screenshot(page, "61-api-key-revoked")
    refused = _videos(site, key)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "INVALID_API_KEY"

    # Another key: Copy copies it (or, without a clipboard, selects it and says how).
    page.get_by_label("Name").fill("Second key")
    page.get_by_role("button", name="Create key").click()
    expect(shown).to_have_value(KEY_SHAPE)
    second = shown.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("[data-new-key] [data-copy-status]")).to_have_text(COPIED)
    assert page.evaluate("() => document.activeElement.matches('[data-new-key-value]')")
    expect(row).to_have_count(1)
    assert _videos(site, second).status_code == 200


def test_a_webhook_endpoint_is_added_delivered_to_logged_and_redelivered(site: Site, browser_page: Any,
                                                                         receiver: Receiver) -> None:
    page = browser_page
    user_id = site.user("hooks@example.com", credits=3)
    site.sign_in(page, "hooks@example.com")
    page.get_by_role("link", name="Webhooks").click()
    expect(page).to_have_url(site.url + "/webhooks")

    page.get_by_label("Endpoint URL").fill("ftp://example.com/x")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#url-error")).to_have_text("The URL must be an absolute http:// or https:// URL.")
    page.get_by_label("Endpoint URL").fill(receiver.url("/genvid"))
    for other in ("video.failed", "credits.purchased", "credits.low"):
        page.get_by_label(re.compile(re.escape(other))).uncheck()
    page.get_by_label("Description (optional)").fill("Render notifications")
    page.get_by_role("button", name="Add endpoint").click()
    secret_box = page.locator("[data-new-secret-value]")
    expect(secret_box).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/=]+$"))
    receiver.secrets["/genvid"] = [secret_box.input_value()]
    page.locator("[data-new-secret]").get_by_role("button", name="Copy").click()
    expect(page.locator("[data-new-secret] [data-copy-status]")).to_have_text(COPIED)
    listed = page.locator("[data-endpoints] tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("video ready")
    expect(listed).to_contain_text("enabled")
    screenshot(page, "62-webhook-added")

    # A render completes: its video.completed reaches the receiver, signed with the secret shown once.
    client = site.app.test_client()
    made = client.post("/api/videos", headers=bearer(create_session(site.conn, user_id=user_id)),
                       json={"avatar_id": "local_ada", "voice_id": "local_en_f", "script": "Tell my server."})
    assert made.status_code == 202
    site.work()
    delivered = receiver.at("/genvid")
    assert len(delivered) == 1 and isinstance(delivered[0].verified, dict), delivered
    assert body_of(delivered[0])["type"] == "video.completed"
    assert body_of(delivered[0])["data"]["id"] == made.get_json()["data"]["id"]

    listed.get_by_role("link").click()
    expect(page.get_by_role("heading", name=receiver.url("/genvid"))).to_be_visible()
    delivery = page.locator("[data-deliveries] > li")
    expect(delivery).to_have_count(1)
    expect(delivery).to_contain_text("video.completed")
    expect(delivery).to_contain_text("delivered")
    expect(delivery).to_contain_text(delivered[0].headers["webhook-id"])
    attempts = delivery.locator("table.attempts tbody tr")
    expect(attempts).to_have_count(1)
    expect(attempts.first.locator("td").nth(2)).to_have_text("HTTP 200")
    expect(attempts.first.locator("td").nth(3)).to_have_text(re.compile(r"^[\d,]+ ms$"))
    expect(attempts.first.locator("td").nth(4)).to_have_text("ok")
    # not shown again
    assert secret_box.input_value() == "" or not page.locator("[data-new-secret]").is_visible()

    # The receiver breaks; a redelivery is sent with the same webhook-id, fails, and its answer is logged.
    receiver.behaviours["/genvid"] = Behaviour(status=503, body=b"maintenance until 10:00")
    page.get_by_role("button", name=re.compile("^Redeliver video.completed")).click()
    expect(page.locator("[data-deliveries-status]")).to_contain_text("Sending video.completed again")
    site.work()
    page.get_by_role("button", name="Refresh").click()
    expect(attempts).to_have_count(2)
    expect(delivery).to_contain_text("retrying")
    failed = attempts.filter(has_text="#2")
    expect(failed.locator("td").nth(2)).to_contain_text("HTTP 503")
    expect(failed.locator("td").nth(4)).to_have_text("maintenance until 10:00")
    again = receiver.at("/genvid")
    assert len(again) == 2 and again[1].headers["webhook-id"] == again[0].headers["webhook-id"]
    screenshot(page, "63-webhook-deliveries")

    # Disable and enable; rotate the secret (shown once, the old one signs beside it for a day).
    page.get_by_role("button", name="Disable").click()
    expect(page.locator("[data-endpoint-action-status]")).to_contain_text("Disabled")
    expect(page.locator("[data-endpoint-details]")).to_contain_text("disabled")
    assert site.conn.execute("SELECT enabled FROM webhook_endpoints").fetchone() == (False,)
    page.get_by_role("button", name=re.compile("^Redeliver video.completed")).click()
    expect(page.locator("[data-deliveries-error]")).to_have_text(
        "Enable the endpoint before redelivering to it.")
    page.get_by_role("button", name="Enable").click()
    expect(page.locator("[data-endpoint-details]")).to_contain_text("enabled")
    old_secret = receiver.secrets["/genvid"][0]
    page.get_by_role("button", name="Rotate secret").click()
    expect(secret_box).to_have_value(re.compile(r"^whsec_"))
    assert secret_box.input_value() != old_secret
    expect(page.locator("[data-secret-overlap]")).to_be_visible()
    screenshot(page, "64-webhook-rotated")

    page.get_by_role("button", name="Delete this endpoint").click()
    page.locator("[data-delete-dialog]").get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(site.url + "/webhooks?deleted=1")
    expect(page.locator("[data-endpoints-notice]")).to_have_text("The endpoint was deleted.")
    expect(page.locator("[data-endpoints-empty]")).to_be_visible()
