"""The HTML pages of the web app, and the headers and error pages they share.

A view renders a template and nothing else: which user is signed in, their credits and their videos are read
by the page's script from /api and /api/auth. What a template needs to know up front (the social providers
to offer, the password and script limits, the price rule) comes from configuration and plain constants.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template
from flask.typing import ResponseReturnValue

from genvid.auth.apikey_rules import ApiKeyOptions
from genvid.auth.limits import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from genvid.batches.rows import MAX_ROWS
from genvid.config import BUILT_IN_PROVIDERS, Config
from genvid.http import errors as http_errors
from genvid.http.app_config import app_config
from genvid.outbound.addresses import MAX_URL_LENGTH
from genvid.videos import pricing
from genvid.videos.limits import CHARACTERS_PER_SECOND, MAX_SCRIPT, MAX_TITLE

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

# Scripts and styles come from this origin only, and no page may be framed: no inline script anywhere.
# Images and sounds may also come from https (a HeyGen catalogue's previews live on its CDN).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "media-src 'self' https:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_PROVIDER_NAMES = {"google": "Google", "github": "GitHub", "gitlab": "GitLab", "linkedin": "LinkedIn"}
_DAY = 86_400
# The API keys page's expiry choices: (expiresIn seconds, label, preselected); the plugin allows 1 to 365
# days.
KEY_EXPIRIES = ((30 * _DAY, "In 30 days", False), (90 * _DAY, "In 90 days", True),
                (365 * _DAY, "In a year", False), ("", "Never", False))
# The webhooks page's event choices, in words (genvid.outbound.schemas.EventType).
WEBHOOK_EVENTS = (("video.completed", "a video is ready"),
                  ("video.failed", "a video failed (its credits are back)"),
                  ("credits.purchased", "credits you bought arrived"),
                  ("credits.low", "a video took your balance below the low mark"))


@dataclass(frozen=True)
class SocialProvider:
    """A "Continue with ..." button on the sign-in page;
    id is the `provider` of POST /api/auth/sign-in/social."""

    id: str
    name: str


def social_providers(config: Config) -> list[SocialProvider]:
    """The sign-in page's buttons: Google and GitHub when both their client id and secret are set, then every
    OAUTH_PROVIDERS entry in order (config refuses a generic provider with a built-in's id)."""
    generic = [entry.provider_id for entry in config.oauth_providers]
    built_in = [name for name in BUILT_IN_PROVIDERS
                if getattr(config, f"{name}_client_id") and getattr(config, f"{name}_client_secret")]
    return [SocialProvider(provider_id, _PROVIDER_NAMES.get(provider_id) or provider_id.replace("_", " ")
                           .replace("-", " ").title()) for provider_id in built_in + generic]


def page(template: str, **context: Any) -> str:
    """A page rendered with what every page may show: the limits, the price rule, and genvid's public origin
    (sign-in works only there: the auth endpoints check the Origin of every form they get)."""
    return render_template(
        template, min_password=MIN_PASSWORD_LENGTH, max_password=MAX_PASSWORD_LENGTH, max_script=MAX_SCRIPT,
        max_title=MAX_TITLE, chars_per_second=CHARACTERS_PER_SECOND,
        seconds_per_credit=pricing.SECONDS_PER_CREDIT, public_origin=app_config().base_origin, **context)


@bp.get("/")
def home() -> ResponseReturnValue:
    return page("home.html")


@bp.get("/signup")
def sign_up() -> ResponseReturnValue:
    return page("signup.html")


@bp.get("/signin")
def sign_in() -> ResponseReturnValue:
    return page("signin.html", social_providers=social_providers(app_config()))


@bp.get("/forgot-password")
def forgot_password() -> ResponseReturnValue:
    return page("forgot_password.html")


@bp.get("/reset-password")
def reset_password() -> ResponseReturnValue:
    """Where the reset mail's link lands (via /api/auth/reset-password/<token>) with ?token= or ?error=."""
    return page("reset_password.html")


@bp.get("/verify-email")
def verify_email() -> ResponseReturnValue:
    """Where verification and email-change links land (via /api/auth/verify-email), ?error= on failure."""
    return page("verify_email.html")


@bp.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    return page("dashboard.html")


@bp.get("/billing")
def billing() -> ResponseReturnValue:
    """The Customer Portal's return address (APP_URL/billing): the dashboard's credits section."""
    return redirect("/dashboard#credits")


@bp.get("/billing/success")
def billing_success() -> ResponseReturnValue:
    """Checkout's success_url (APP_URL/billing/success?session_id=...)."""
    return page("billing_success.html")


@bp.get("/billing/cancel")
def billing_cancel() -> ResponseReturnValue:
    """Checkout's cancel_url."""
    return page("billing_cancel.html")


@bp.get("/videos")
def videos() -> ResponseReturnValue:
    return page("videos.html")


@bp.get("/videos/new")
def new_video() -> ResponseReturnValue:
    return page("video_new.html")


@bp.get("/videos/<video_id>")
def video(video_id: str) -> ResponseReturnValue:
    return page("video.html", video_id=video_id)


@bp.get("/batches")
def batches() -> ResponseReturnValue:
    return page("batches.html")


@bp.get("/batches/new")
def new_batch() -> ResponseReturnValue:
    return page("batch_new.html", max_rows=MAX_ROWS)


@bp.get("/batches/<batch_id>")
def batch(batch_id: str) -> ResponseReturnValue:
    return page("batch.html", batch_id=batch_id)


@bp.get("/account")
def account() -> ResponseReturnValue:
    return page("account.html")


@bp.get("/api-keys")
def api_keys() -> ResponseReturnValue:
    return page("api_keys.html", key_expiries=KEY_EXPIRIES, max_key_name=ApiKeyOptions.maximum_name_length)


@bp.get("/webhooks")
def webhooks() -> ResponseReturnValue:
    return page("webhooks.html", event_types=WEBHOOK_EVENTS, max_url=MAX_URL_LENGTH,
                production=app_config().is_production)


@bp.get("/webhooks/<endpoint_id>")
def webhook(endpoint_id: str) -> ResponseReturnValue:
    return page("webhook.html", endpoint_id=endpoint_id)


def error_page(status: int, message: str) -> Response:
    """The HTML answer for a failure outside /api (an unknown page, a wrong method, a crash)."""
    title = {404: "Page not found", 405: "Not allowed"}.get(status, "Something went wrong")
    response = Response(page("error.html", status=status, title=title, message=message), status=status,
                        mimetype="text/html")
    return security_headers(response)


@bp.after_request
def security_headers(response: Response) -> Response:
    """Every HTML page (and its static files) is served with the CSP and the usual hardening headers."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Register the pages, their headers, and the HTML error page for paths outside /api."""
    app.register_blueprint(bp)
    http_errors.set_page_renderer(app, error_page)
