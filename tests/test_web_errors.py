"""What a person sees when something is wrong: every error in words, next to what caused it,
in a real browser."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from factories import DEFAULT_PASSWORD
from playwright.sync_api import expect
from web_fixtures import Site, screenshot


def test_a_wrong_password_is_said_under_the_password(site: Site, browser_page: Any) -> None:
    page = browser_page
    site.user("wrong@example.com")
    page.goto(site.url + "/signin")
    page.get_by_label("Email address").fill("wrong@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#password-error")
    expect(error).to_have_text("The email address or the password is wrong.")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Password")).to_be_focused()
    assert page.url == site.url + "/signin"
    screenshot(page, "30-signin-wrong-password")


def test_sign_up_mistakes_are_shown_under_their_fields(site: Site, browser_page: Any) -> None:
    """Empty fields, a password under 8 characters, an address already taken: each under its own field."""
    page = browser_page
    site.user("taken@example.com")
    page.goto(site.url + "/signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#name-error")).to_have_text("Enter your name.")
    expect(page.locator("#email-error")).to_have_text("Enter your email address.")
    expect(page.locator("#password-error")).to_have_text("Choose a password.")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_have_text(
        "The password is too short: use at least 8 characters.")
    expect(page.locator("#email-error")).to_have_text("")
    page.get_by_label("Email address").fill("taken@example.com")
    page.get_by_label("Password").fill("long enough now")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#email-error")).to_contain_text("exists already")
    screenshot(page, "31-signup-email-taken")


def test_a_script_with_nothing_to_say_is_refused_under_the_script_box(site: Site, browser_page: Any) -> None:
    page = browser_page
    site.user("writer@example.com", credits=5)
    site.sign_in(page, "writer@example.com")
    page.goto(site.url + "/videos/new")
    expect(page.locator("[data-avatars] img")).to_have_count(4)
    page.get_by_role("button", name="Create video").click()           # nothing chosen yet
    expect(page.locator("#avatar_id-error")).to_have_text("Choose an avatar.")
    expect(page.locator("#voice_id-error")).to_have_text("Choose a voice.")
    page.get_by_label("Chen").check()
    page.get_by_role("radio", name=re.compile(r"^French \(female\)")).check()
    page.get_by_label("What should the avatar say?").fill("   \n  ")
    page.get_by_role("button", name=re.compile("^Create video")).click()
    expect(page.locator("#script-error")).to_have_text("The script must contain something to say.")
    expect(page.locator("#avatar_id-error")).to_have_text("")
    expect(page.get_by_label("What should the avatar say?")).to_be_focused()
    screenshot(page, "32-new-video-empty-script")
    assert site.conn.execute("SELECT count(*) FROM videos").fetchone() == (0,)


def test_not_enough_credits_is_said_beside_the_create_button(site: Site, browser_page: Any) -> None:
    page = browser_page
    site.user("broke@example.com", credits=0)
    site.sign_in(page, "broke@example.com")
    page.goto(site.url + "/videos/new")
    page.get_by_label("Dara").check()
    page.get_by_role("radio", name=re.compile(r"^Spanish \(male\)")).check()
    page.get_by_label("What should the avatar say?").fill("Hola a todos. " * 40)   # 560 characters: 2 credits
    expect(page.locator("[data-script-price]")).to_contain_text("costs 2 credits")
    expect(page.locator("[data-balance-line]")).to_have_text(
        "You have 0 credits. That is not enough for this video: buy more on the dashboard.")
    page.get_by_role("button", name="Create video (2 credits)").click()
    expect(page.locator("[data-form-error]")).to_have_text(
        "Not enough credits: this video costs 2 credits and you have 0 credits. Buy credits on your "
        "dashboard.")
    screenshot(page, "33-new-video-no-credits")
    assert site.conn.execute("SELECT count(*) FROM videos").fetchone() == (0,)


def test_leaving_checkout_and_the_portal_come_back_to_genvid(site: Site, browser_page: Any) -> None:
    """Checkout's Back link lands on /billing/cancel (nothing bought); the portal returns to /billing."""
    page = browser_page
    site.user("shopper@example.com")
    site.sign_in(page, "shopper@example.com")
    page.get_by_role("button", name="Subscribe to Basic: 300 credits a month").click()
    expect(page.get_by_role("heading", name="Checkout (test)")).to_be_visible()
    page.get_by_role("link", name="Back").click()
    expect(page).to_have_url(site.url + "/billing/cancel")
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible()
    screenshot(page, "34-billing-cancel")
    page.get_by_role("link", name="Back to buying credits").click()
    expect(page.locator("[data-balance]")).to_have_text("0")
    page.get_by_role("button", name="Manage billing").click()
    expect(page.get_by_role("heading", name="Customer portal (test)")).to_be_visible()
    page.get_by_role("link", name="Return to genvid").click()
    expect(page).to_have_url(site.url + "/dashboard#credits")
    expect(page.locator("[data-balance]")).to_have_text("0")


def test_without_stripe_buying_says_why_next_to_the_button(serve_site: Callable[..., Site],
                                                          browser_page: Any) -> None:
    site = serve_site(stripe_secret_key=None, stripe_webhook_secret=None)
    page = browser_page
    site.user("offline@example.com")
    site.sign_in(page, "offline@example.com")
    page.get_by_role("button", name="Buy Creator: 500 credits").click()
    expect(page.locator("#pack-creator-error")).to_have_text(
        "Payments are not set up on this server yet, so credits cannot be bought here. Ask the operator to "
        "grant you some.")
    expect(page.locator("#pack-starter-error")).to_have_text("")


def test_a_password_reset_link_works_once(site: Site, browser_page: Any) -> None:
    """Forgot password -> the mail's link -> a new password (mismatch caught first) -> sign in with it; the
    same link a second time says it is not valid any more."""
    page = browser_page
    site.user("forgetful@example.com")
    page.goto(site.url + "/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(site.url + "/forgot-password")
    page.wait_for_selector("body.ready")     # the page's script took the form (a click before posts natively)
    page.get_by_label("Email address").fill("forgetful@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("[data-form-status]")).to_contain_text("is on its way")
    screenshot(page, "35-forgot-password")
    link = site.mailbox.link("forgetful@example.com", "Reset")
    assert link.startswith(site.url + "/api/auth/reset-password/")
    page.goto(link)
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/reset-password\?token="))
    page.get_by_label("New password", exact=True).fill("brand new secret")
    page.get_by_label("New password, again").fill("brand new secert")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.locator("#confirmPassword-error")).to_have_text("The two passwords are not the same.")
    page.get_by_label("New password, again").fill("brand new secret")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    screenshot(page, "36-reset-password-done")
    site.sign_in(page, "forgetful@example.com", "brand new secret")
    page.goto(link)
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/reset-password\?error=INVALID_TOKEN"))
    expect(page.get_by_text("This reset link is not valid any more")).to_be_visible()
    screenshot(page, "37-reset-password-used-link")


def test_the_old_password_stops_working_after_a_reset(site: Site, browser_page: Any) -> None:
    page = browser_page
    site.user("rotate@example.com")
    page.goto(site.url + "/forgot-password")
    page.get_by_label("Email address").fill("rotate@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.goto(site.mailbox.link("rotate@example.com", "Reset"))
    page.get_by_label("New password", exact=True).fill("another secret!")
    page.get_by_label("New password, again").fill("another secret!")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    page.goto(site.url + "/signin")
    page.get_by_label("Email address").fill("rotate@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#password-error")).to_have_text("The email address or the password is wrong.")


def test_mails_asked_for_by_another_client_still_land_on_the_right_page(site: Site,
                                                                        browser_page: Any) -> None:
    """A client that names no page of its own gets better-auth's default callback, "/": the start page sends a
    reset token on to the reset page, and says so when a link is no longer valid."""
    page = browser_page
    site.user("api-client@example.com")
    asked = page.request.post(site.url + "/api/auth/request-password-reset",
                              data={"email": "api-client@example.com"}, headers={"Origin": site.url})
    assert asked.status == 200
    link = site.mailbox.link("api-client@example.com", "Reset")
    assert link.endswith("?callbackURL=%2F")
    page.goto(link)
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/reset-password\?token="))
    page.get_by_label("New password", exact=True).fill("from another client")
    page.get_by_label("New password, again").fill("from another client")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    page.goto(link)
    expect(page).to_have_url(site.url + "/?error=INVALID_TOKEN")
    expect(page.get_by_text("That link is not valid any more")).to_be_visible()
