"""The whole product in a real browser, as a person uses it: Chromium, genvid over HTTP, a real worker.

Sign up, see 0 credits, get credits (an operator's `genvid credits grant`, then a Stripe Checkout purchase on
the fake Stripe's hosted page), make a video from the gallery, watch its progress change without reloading,
play it to the end, delete it, sign out and sign back in. Every page passed on the way is screenshotted.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_fixtures import SCREENSHOTS, WAIT_MS, Site, screenshot

pytestmark = pytest.mark.slow     # started first: the suite runs in parallel sessions

EMAIL = "ada.walker@example.com"
PASSWORD = "a long enough password"
SCRIPT = "Hello! I am a genvid avatar, and this video was made in a real browser."


def test_a_person_walks_through_the_whole_product(site: Site, browser_page: Any) -> None:
    page = browser_page
    started = time.monotonic()

    # The start page sends a new visitor to sign up.
    page.goto(site.url + "/")
    expect(page.get_by_role("heading", name="Talking-avatar videos from a script")).to_be_visible()
    screenshot(page, "01-home")
    page.get_by_role("link", name="Create a free account").click()
    expect(page).to_have_url(site.url + "/signup")

    page.get_by_label("Your name").fill("Ada Walker")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "02-signup")
    page.get_by_role("button", name="Create account").click()

    # A new account has no credits, and its email address is waiting for the confirmation mail.
    expect(page).to_have_url(site.url + "/dashboard")
    balance = page.locator("[data-balance]")
    expect(balance).to_have_text("0")
    expect(page.get_by_text("is not confirmed yet")).to_be_visible()
    assert "/verify-email" in site.mailbox.link(EMAIL, "Verify")
    expect(page.locator("[data-packs] li")).to_have_count(3)
    screenshot(page, "03-dashboard-new-account")

    # An operator grants credits with the CLI; a reload shows them, with the ledger line.
    assert "granted 3 credits" in site.grant(EMAIL, 3)
    page.reload()
    expect(balance).to_have_text("3")
    expect(page.locator("[data-ledger] tr").first).to_contain_text("Granted: browser test")

    # Buying a pack: Stripe Checkout (the fake's hosted page), then back to the success page, which shows
    # the credits once Stripe's webhook has granted them.
    page.get_by_role("button", name="Buy Starter: 100 credits").click()
    expect(page.get_by_role("heading", name="Checkout (test)")).to_be_visible()
    screenshot(page, "04-stripe-checkout-fake")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/billing/success\?session_id=cs_test_"))
    expect(page.locator("[data-checkout-message]")).to_have_text(
        "Payment received: 100 credits were added. Your balance is now 103 credits.", timeout=WAIT_MS)
    screenshot(page, "05-billing-success")
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(balance).to_have_text("103")
    expect(page.locator("[data-ledger] tr").first).to_contain_text("Bought credits")
    screenshot(page, "06-dashboard-with-credits")

    # A video from the gallery: an avatar by its picture, a voice filtered by language, a script priced live.
    page.get_by_role("link", name="New video").first.click()
    expect(page).to_have_url(site.url + "/videos/new")
    gallery = page.locator("[data-avatars] img")
    expect(gallery).to_have_count(4)
    for picture in gallery.all():       # every preview image actually loaded
        expect(picture).to_have_js_property("complete", True)
        assert picture.evaluate("img => img.naturalWidth") == 256
    page.get_by_label("Ben").check()
    page.get_by_label("Language").select_option(label="English")
    expect(page.locator("[data-voices] li")).to_have_count(2)
    page.get_by_role("radio", name=re.compile(r"^English \(male\)")).check()
    page.get_by_role("button", name="Play a sample of English (male)").click()     # a voice sample plays
    page.wait_for_function("() => document.querySelector('[data-voice-sample]').currentTime > 0.3",
                           timeout=WAIT_MS)
    page.get_by_label("What should the avatar say?").fill(SCRIPT)
    expect(page.locator("[data-script-count]")).to_have_text(f"{len(SCRIPT)} / 5,000 characters")
    expect(page.locator("[data-script-price]")).to_contain_text("costs 1 credit")
    page.get_by_label("Title (optional)").fill("My first video")
    screenshot(page, "07-new-video")
    page.get_by_role("button", name="Create video (1 credit)").click()

    # The video page shows it waiting; the worker renders it and the page follows without a reload.
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/videos/[A-Za-z0-9]+$"))
    badge = page.locator("[data-status-badge]")
    expect(badge).to_have_text("Waiting")
    page.evaluate("""() => {
        window.walkMarker = "same document";
        window.seenStatuses = [document.querySelector("[data-status-badge]").textContent];
        const badge = () => document.querySelector("[data-status-badge]");
        new MutationObserver(() => window.seenStatuses.push(badge().textContent))
            .observe(badge(), {childList: true, characterData: true, subtree: true});
    }""")
    screenshot(page, "08-video-waiting")
    site.work()
    expect(badge).to_have_text("Ready", timeout=WAIT_MS)
    assert page.evaluate("window.walkMarker") == "same document"        # no reload happened
    seen = page.evaluate("window.seenStatuses")
    assert seen[0] == "Waiting" and seen[-1] == "Ready", seen
    player = page.locator("video[data-player]")
    expect(player).to_be_visible()
    expect(page.locator("[data-warnings] li")).to_have_count(0)       # the voice speaks: no silent warning
    screenshot(page, "09-video-ready")

    # Play it: the element reaches its duration.
    duration = player.evaluate("""v => new Promise(resolve => {
        if (v.readyState >= 1) resolve(v.duration);
        else v.addEventListener("loadedmetadata", () => resolve(v.duration));
    })""")
    assert duration > 1
    player.evaluate("v => v.play()")
    page.wait_for_function("""() => { const v = document.querySelector("video[data-player]");
        return v.ended && Math.abs(v.currentTime - v.duration) < 0.2; }""", timeout=WAIT_MS)
    download = page.get_by_role("link", name="Download MP4")
    fetched = page.request.get(download.get_attribute("href") or "")
    assert fetched.status == 200 and fetched.headers["content-type"] == "video/mp4" and len(
        fetched.body()) > 1000

    # The list has it; the dashboard's balance and ledger show what it cost.
    page.get_by_role("link", name="My videos").click()
    expect(page.locator("[data-videos] li")).to_have_count(1)
    expect(page.locator("[data-videos] li")).to_contain_text("My first video")
    screenshot(page, "10-video-list")
    page.locator("[data-videos] li a").click()

    # Delete it (through the confirmation dialog).
    page.get_by_role("button", name="Delete this video").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(site.url + "/videos?deleted=1")
    expect(page.get_by_text("The video was deleted.")).to_be_visible()
    expect(page.locator("[data-videos] li")).to_have_count(0)

    page.get_by_role("link", name="Account").click()
    expect(page.locator("[data-sessions] tr")).to_have_count(1)
    expect(page.locator("[data-sessions] tr")).to_contain_text("This device")
    screenshot(page, "11-account")

    # Sign out, and back in.
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(site.url + "/signin?signed-out=1")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(site.url + "/dashboard")                  # signed out: the dashboard asks to sign in first
    expect(page).to_have_url(site.url + "/signin?next=%2Fdashboard")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "12-signin")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.url + "/dashboard")
    expect(balance).to_have_text("102")

    elapsed = time.monotonic() - started
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    Path(SCREENSHOTS / "walk-seconds.txt").write_text(f"{elapsed:.1f}\n")
    print(f"\nthe whole walk took {elapsed:.1f} s")
