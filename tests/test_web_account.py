"""Account settings and email confirmation in a real browser: profile, email change, password, sessions,
deletion."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from factories import DEFAULT_PASSWORD, create_session
from playwright.sync_api import expect
from web_fixtures import Site, screenshot


def test_the_confirmation_mail_confirms_the_address(site: Site, browser_page: Any) -> None:
    """Sign up, follow the mailed link: the page says the address is confirmed and the dashboard stops
    asking."""
    page = browser_page
    page.goto(site.url + "/signup")
    page.get_by_label("Your name").fill("Vera")
    page.get_by_label("Email address").fill("vera@example.com")
    page.get_by_label("Password").fill("vera's password")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("[data-verify-banner]")).to_be_visible()
    link = site.mailbox.link("vera@example.com", "Verify")
    assert link.startswith(
        site.url + "/api/auth/verify-email?token=") and "callbackURL=%2Fverify-email" in link
    page.goto(link)
    expect(page).to_have_url(site.url + "/verify-email")
    expect(page.locator("[data-verify-message]")).to_have_text(
        "Your email address vera@example.com is confirmed. Thank you.")
    screenshot(page, "40-verify-email")
    page.get_by_role("link", name="Go to your dashboard").click()
    expect(page.locator("[data-balance]")).to_have_text("0")
    expect(page.locator("[data-verify-banner]")).to_be_hidden()
    page.goto(link)                                                   # used up
    expect(page.locator("[data-verify-message]")).to_contain_text("This link is not valid any more")


def test_profile_email_and_password_changes(site: Site, browser_page: Any) -> None:
    page = browser_page
    site.user("settings@example.com", name="Old Name")
    site.sign_in(page, "settings@example.com")
    page.get_by_role("link", name="Account").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_value("Old Name")
    name.fill("New Name")
    page.locator("#profile-form").get_by_role("button", name="Save").click()
    expect(page.locator("#profile-form [data-form-status]")).to_have_text("Your name was saved.")

    page.get_by_label("Current password").fill("not it at all")
    page.get_by_label("New password").fill("a better password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#currentPassword-error")).to_have_text("This is not your current password.")
    page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-form [data-form-status]")).to_have_text("Your password was changed.")

    page.get_by_label("New email address").fill("moved@example.com")
    page.get_by_role("button", name="Change email").click()
    expect(page.locator("#email-form [data-form-status]")).to_contain_text(
        "We sent a confirmation link to moved@example.com")
    screenshot(page, "41-account-changes")
    page.goto(site.mailbox.link("moved@example.com", "Confirm"))
    expect(page.locator("[data-verify-message]")).to_have_text(
        "Your email address moved@example.com is confirmed. Thank you.")
    page.get_by_role("button", name="Sign out", exact=True).click()   # the menu follows the session here too
    expect(page).to_have_url(site.url + "/signin?signed-out=1")
    site.sign_in(page, "moved@example.com", "a better password")
    expect(page.get_by_role("heading", name="Hello, New Name")).to_be_visible()


def test_sessions_elsewhere_can_be_signed_out(site: Site, browser_page: Any) -> None:
    page = browser_page
    user_id = site.user("many@example.com")
    other = create_session(site.conn, user_id=user_id)
    site.sign_in(page, "many@example.com")
    page.goto(site.url + "/account")
    rows = page.locator("[data-sessions] tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="This device")).to_have_count(1)
    rows.filter(has_not_text="This device").get_by_role("button", name=re.compile("^Sign out")).click()
    expect(page.locator("[data-sessions-status]")).to_have_text("That device is signed out.")
    expect(rows).to_have_count(1)
    assert site.conn.execute("SELECT count(*) FROM session WHERE token = %s", (other,)).fetchone() == (0,)


def test_deleting_the_account_needs_the_password_and_the_tick(site: Site, browser_page: Any) -> None:
    page = browser_page
    site.user("leaving@example.com", credits=3)
    site.sign_in(page, "leaving@example.com")
    page.goto(site.url + "/account")
    delete = page.get_by_role("button", name="Delete my account")
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    delete.click()
    expect(page.locator("#confirmDelete-error")).to_contain_text("Tick this box")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_label("Your password").fill("wrong password")
    delete.click()
    expect(page.locator("#deletePassword-error")).to_have_text("This is not your password.")
    screenshot(page, "42-account-delete-wrong-password")
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    delete.click()
    expect(page).to_have_url(site.url + "/?account-deleted=1")
    expect(page.get_by_text("Your account was deleted.")).to_be_visible()
    assert site.conn.execute(
        "SELECT count(*) FROM \"user\" WHERE email = 'leaving@example.com'").fetchone() == (0,)


def test_social_sign_in_from_the_sign_in_page(serve_site: Callable[..., Site], fakes: Any,
                                              browser_page: Any) -> None:
    """With Google, GitHub and a generic provider configured (the local fakes), the sign-in page offers a
    button for each; GitHub's takes the person through the provider and back, signed in, to the dashboard."""
    site = serve_site(**fakes.genvid_settings())
    page = browser_page
    page.goto(site.url + "/signin")
    buttons = page.locator("[data-social-provider]")
    expect(buttons).to_have_text(["Continue with Google", "Continue with GitHub", "Continue with Acme"])
    screenshot(page, "13-signin-with-social-buttons")
    page.get_by_role("button", name="Continue with GitHub").click()
    expect(page).to_have_url(site.url + "/dashboard")
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()
    expect(page.locator("[data-balance]")).to_have_text("0")
    assert site.conn.execute("""SELECT count(*) FROM account WHERE "providerId" = 'github'""").fetchone() == (
        1,)
