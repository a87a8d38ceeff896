"""Browser fixtures: Debian's Chromium driven by Playwright, and genvid served over real HTTP to it.

`site` serves a fresh app at its own origin (BETTER_AUTH_URL = APP_URL = the server's address, so the Origin
checks and Checkout's return addresses are the real ones), rendering offline with the real worker code
(`site.work()` runs an RQ worker in burst mode), paying through the fake Stripe, whose hosted pages the
browser visits. `browser_page` is a new browser context and page; every page error and Content-Security-Policy
violation it logs fails the test. Screenshots go to .artifacts/screenshots/ (gitignored).

Chromium comes from Debian (`apt-get install chromium`; .ci/run does it): Playwright cannot download a
browser here, so it launches /usr/bin/chromium through executable_path.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import Services
from fakes.serving import ThreadedServer, serve_wsgi
from fakes.stripe import WEBHOOK_SECRET, FakeStripe
from flask import Flask
from mail_fixtures import Mailbox
from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM = os.environ.get("GENVID_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Generous: a condition that takes this long is a failure whatever the machine's speed.
WAIT_MS = 60_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=WAIT_MS)          # assertions wait as long as actions do (default: 5 s)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Site:
    """genvid served over HTTP for the browser, with its worker, fake Stripe and mailbox."""

    url: str
    app: Flask
    conn: psycopg.Connection
    stripe: FakeStripe
    mailbox: Mailbox
    services: Services
    data_dir: Path
    run_worker: Callable[..., int]

    def work(self) -> int:
        """What `genvid worker` does, at genvid's clock's now: dispatch the due steps, run them (offline)."""
        return self.run_worker()

    def grant(self, email: str, credits: int) -> str:
        """`genvid credits grant EMAIL N --reason ...`, the real command in its own process."""
        env = {**os.environ, "DATABASE_URL": self.services.database_url, "REDIS_URL": self.services.redis_url,
               "ENVIRONMENT": "test", "GENVID_DATA_DIR": str(self.data_dir / "cli"), "LOG_LEVEL": "WARNING"}
        done = subprocess.run([sys.executable, "-m", "genvid.cli", "credits", "grant", email, str(credits),
                               "--reason", "browser test"], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def user(self, email: str, *, credits: int = 0, name: str = "Test User") -> str:
        """A user with DEFAULT_PASSWORD (and credits from a test grant),
        arranged through the production code."""
        from factories import create_user

        from genvid.billing import ledger
        user = create_user(self.conn, email=email, name=name)
        if credits:
            assert ledger.grant(self.conn, user_id=user.id, credits=credits, reason="test_grant",
                                reference=email)
        return user.id

    def sign_in(self, page: Any, email: str, password: str | None = None) -> None:
        """Sign in through the sign-in page and land on the dashboard."""
        from factories import DEFAULT_PASSWORD
        from playwright.sync_api import expect
        page.goto(self.url + "/signin")
        # the page's script took the form (a click before posts natively)
        page.wait_for_selector("body.ready")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password or DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(self.url + "/dashboard")


@pytest.fixture
def serve_site(make_app: Callable[..., Flask], conn: psycopg.Connection, services: Services, tmp_path: Path,
               run_worker: Callable[..., int], fake_stripe: FakeStripe) -> Iterator[Callable[..., Site]]:
    """serve_site(**config overrides): a fresh genvid at http://127.0.0.1:<port>, rendering offline and
    selling credits through the fake Stripe (one per test: each app becomes the process's configuration)."""
    from videos_fixtures import TEST_TUNING

    from genvid import clock
    from genvid.infra import services as genvid_services
    from genvid.videos import catalogue, providers
    running: list[tuple[ThreadedServer, Mailbox]] = []

    def serve(**overrides: Any) -> Site:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        fake_stripe.host_pages(f"{url}/api/webhooks/stripe")
        mailbox = Mailbox()
        mailbox.start()
        settings: dict[str, Any] = {
            "better_auth_url": url, "app_url": url, "trusted_origins": (), "data_dir": str(tmp_path / "site"),
            "smtp_url": mailbox.url, "stripe_secret_key": fake_stripe.api_key,
            "stripe_webhook_secret": WEBHOOK_SECRET, "stripe_api_base": fake_stripe.base_url,
            "video_provider": "local", "local_render_height": 144, **TEST_TUNING, **overrides}
        app = make_app(**settings)
        catalogue.sync(providers.get_provider(genvid_services.started_config()), now=clock.now())
        running.append((serve_wsgi(app, port), mailbox))
        return Site(url, app, conn, fake_stripe, mailbox, services, tmp_path, run_worker)

    yield serve
    for server, mailbox in running:
        server.stop()
        mailbox.stop()


@pytest.fixture
def site(serve_site: Callable[..., Site]) -> Site:
    """The site with its default settings."""
    return serve_site()


@dataclass
class PageProblems:
    """What the browser reported that a working page never does."""

    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.errors, "\n".join(self.errors)


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page in a fresh context (its own cookies). Uncaught script errors and CSP violations
    fail the test at teardown."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    problems = PageProblems()
    page.on("pageerror", lambda error: problems.errors.append(f"page error: {error}"))
    page.on("console", lambda message: problems.errors.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    context.close()
    problems.check()


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as .artifacts/screenshots/<name>.png (a test artifact, looked at by people)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def phone_page(browser: Any) -> Iterator[Any]:
    """A page in a fresh phone-sized context (390x844, touch, its own cookies), closed afterwards."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    context.set_default_timeout(WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def check_on_phone(page: Any, site: Site, pages: list[tuple[str, str]], shots: str) -> None:
    """Each (path, name) of pages, opened on a phone_page once its requests settle: it does not scroll
    sideways and every visible form control has a label (or an aria-label). Screenshot <shots>-<name>."""
    for path, name in pages:
        page.goto(site.url + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        unlabelled = page.evaluate("""() => [...document.querySelectorAll("input, select, textarea, button")]
            .filter(el => el.offsetParent !== null && el.type !== "hidden")
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                          && !el.textContent.trim())
            .map(el => el.outerHTML.slice(0, 80))""")
        assert unlabelled == [], f"{path}: {unlabelled}"
        screenshot(page, f"{shots}-{name}")


def clear_screenshots() -> None:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
