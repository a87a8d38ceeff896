"""The email flows as better-auth documents them: verification, password reset, email change, deletion.

The views register on the auth blueprint (genvid.auth.blueprint), guarded as every /api/auth view is.
"""
from __future__ import annotations

from urllib.parse import quote, urljoin

from flask import request
from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth import (
    context,
    limits,
    mail,
    recovery,
    responses,
    sessions,
    shapes,
    users,
)
from genvid.auth.blueprint import bp, policy, prepare, require_session
from genvid.auth.validation import Field, Schema, json_schema, validation_error
from genvid.errors import BetterAuthError
from genvid.http.api import documented
from genvid.http.app_config import app_config
from genvid.infra import database

SEND_VERIFICATION = Schema((Field("email", email=True, max_length=limits.MAX_EMAIL_LENGTH),
                            Field("callbackURL", optional=True)))
REQUEST_RESET = Schema((Field("email", email=True, max_length=limits.MAX_EMAIL_LENGTH),
                        Field("redirectTo", optional=True)))
RESET_PASSWORD = Schema((Field("newPassword"), Field("token", optional=True)))
CHANGE_EMAIL = Schema((Field("newEmail", email=True, max_length=limits.MAX_EMAIL_LENGTH),
                       Field("callbackURL", optional=True)))
DELETE_USER = Schema((Field("password", optional=True), Field("token", optional=True),
                      Field("callbackURL", optional=True)), optional=True)
RESET_SENT = "If this email exists in our system, check your email for the reset link"
AUTH = ["auth"]
_REDIRECT = {302: shapes.REDIRECT}


def invalid_token() -> BetterAuthError:
    """400 for an unknown, used or expired token."""
    return BetterAuthError(400, "Invalid token", "INVALID_TOKEN")


def _with_query(url: str, **params: str) -> str:
    separator = "&" if "?" in url else "?"
    return url + separator + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def _absolute(url: str) -> str:
    """`new URL(url, BETTER_AUTH_URL).href`, as better-auth builds reset redirects."""
    return urljoin(app_config().better_auth_url, url)


def _query(name: str) -> str:
    value = request.args.get(name)
    if value is None:
        raise validation_error([f"[query.{name}] Invalid input: expected string, received undefined"])
    return value


def _require_mail() -> None:
    """503 before any token is made when this server cannot deliver the mail (production without SMTP_URL)."""
    config = app_config()
    if not mail.is_configured(smtp_url=config.smtp_url, environment=config.environment):
        raise BetterAuthError(503, mail.NOT_CONFIGURED, "MAIL_NOT_CONFIGURED")


def _deliver(message: recovery.Mail | None) -> None:
    if message is None:
        return
    config = app_config()
    mail.send(smtp_url=config.smtp_url, sender=config.mail_from, to=message.to, subject=message.subject,
              text=message.text, environment=config.environment)


@bp.post("/send-verification-email")
@documented("Mail a verification link", body=json_schema(SEND_VERIFICATION), response=shapes.STATUS,
            optional_auth=True, better_auth=True, tags=AUTH)
def send_verification_email() -> ResponseReturnValue:
    """Mail a verification link to an unverified user (the answer never reveals whether one exists)."""
    body = prepare(SEND_VERIFICATION)
    _require_mail()
    base = app_config().better_auth_url.rstrip("/")
    active = context.active_session()
    if active is not None:
        if active.user.email.lower() != body["email"].lower():
            raise BetterAuthError(400, "Email mismatch", "EMAIL_MISMATCH")
        if active.user.email_verified:
            raise BetterAuthError(400, "Email is already verified", "EMAIL_ALREADY_VERIFIED")
    with database.transaction() as conn:
        message = recovery.verification_mail(conn, email=body["email"], base_url=base,
                                             callback=body.get("callbackURL"), now=clock.now())
    _deliver(message)
    return responses.json_response({"status": True})


@bp.get("/verify-email")
@documented("Follow a verification or email-change link", response=shapes.VERIFIED, auth=False,
            better_auth=True, tags=AUTH, responses=_REDIRECT, errors=(401, 403),
            parameters=(shapes.query("token", required=True), shapes.query("callbackURL")))
def verify_email() -> ResponseReturnValue:
    """Follow a verification (or email change) link: once only, within an hour."""
    token = _query("token")
    callback = request.args.get("callbackURL")
    prepare(Schema(optional=True))
    with database.transaction() as conn:
        user = recovery.verify_email(conn, token=token, now=clock.now())
    if user is None:
        if callback:
            return responses.redirect_response(_with_query(callback, error="INVALID_TOKEN"))
        raise BetterAuthError(401, "Invalid token", "INVALID_TOKEN")
    if callback:
        return responses.redirect_response(callback)
    return responses.json_response({"status": True, "user": None})


@bp.post("/request-password-reset")
@documented("Mail a password reset link (the answer is the same for an unknown email)",
            body=json_schema(REQUEST_RESET), response=shapes.RESET_REQUESTED, auth=False, better_auth=True,
            tags=AUTH, errors=(403,))
def request_password_reset() -> ResponseReturnValue:
    """Mail a reset link if the email belongs to a user; the answer is the same either way."""
    body = prepare(REQUEST_RESET)
    _require_mail()
    base = app_config().better_auth_url.rstrip("/")
    with database.transaction() as conn:
        message = recovery.reset_mail(conn, email=body["email"], base_url=base,
                                      redirect_to=body.get("redirectTo"), now=clock.now())
    _deliver(message)
    return responses.json_response({"status": True, "message": RESET_SENT})


@bp.get("/reset-password/<token>")  # any token, U+0000 too: it redirects with INVALID_TOKEN
@documented("The link in a reset mail: redirects to the app with the token or an error", status=302,
            auth=False, better_auth=True, tags=AUTH, responses=_REDIRECT, errors=(403,),
            parameters=(shapes.query("callbackURL", required=True),))
def reset_password_callback(token: str) -> ResponseReturnValue:
    """The link in the mail: redirect to the app with the token, or with error=INVALID_TOKEN."""
    callback = _query("callbackURL")
    prepare(Schema(optional=True))
    with database.connection() as conn:
        valid = recovery.peek_token(conn, purpose=recovery.RESET_PASSWORD, token=token, now=clock.now())
    target = _absolute(callback)
    if valid is None:
        return responses.redirect_response(_with_query(target, error="INVALID_TOKEN"))
    return responses.redirect_response(_with_query(target, token=token))


@bp.post("/reset-password")
@documented("Set a new password with a reset token", body=json_schema(RESET_PASSWORD), response=shapes.STATUS,
            auth=False, better_auth=True, tags=AUTH, parameters=(shapes.query("token"),))
def reset_password() -> ResponseReturnValue:
    """Set a new password with a reset token (single use)."""
    body = prepare(RESET_PASSWORD)
    token = body.get("token") or request.args.get("token")
    if not token:
        raise invalid_token()
    users.check_length(body["newPassword"])
    new_hash = policy().hash(body["newPassword"])
    now = clock.now()
    with database.transaction() as conn:
        user_id = recovery.consume_token(conn, purpose=recovery.RESET_PASSWORD, token=token, now=now)
        if user_id is None:
            raise invalid_token()
        users.set_password(conn, user_id=user_id, password_hash=new_hash, now=now)
    return responses.json_response({"status": True})


@bp.post("/change-email")
@documented("Mail a link that moves the account to a new email", body=json_schema(CHANGE_EMAIL),
            response=shapes.STATUS, better_auth=True, tags=AUTH)
def change_email() -> ResponseReturnValue:
    """Mail a confirmation link to the new address; the email changes when it is followed."""
    body = prepare(CHANGE_EMAIL)
    active = require_session()
    new_email = body["newEmail"].lower()
    if new_email == active.user.email:
        raise BetterAuthError(400, "Email is the same")           # better-auth sends no code here
    _require_mail()
    base = app_config().better_auth_url.rstrip("/")
    with database.transaction() as conn:
        if not users.email_is_free(conn, email=new_email):
            return responses.json_response({"status": True})     # same answer: reveals no account
        message = recovery.change_email_mail(conn, user=active.user, new_email=new_email, base_url=base,
                                             callback=body.get("callbackURL"), now=clock.now())
    _deliver(message)
    return responses.json_response({"status": True})


@bp.post("/delete-user")
@documented("Delete the user (after its password, or with a session under a day old)",
            body=json_schema(DELETE_USER), body_optional=True, response=shapes.DELETED, better_auth=True,
            tags=AUTH)
def delete_user() -> ResponseReturnValue:
    """Delete the signed-in user after confirming the password (or, without one, a fresh session)."""
    body = prepare(DELETE_USER)
    active = require_session()
    password = body.get("password")
    if password is not None:
        with database.connection() as conn:
            stored = users.stored_hash(conn, user_id=active.user.id)
        if not users.check_password(password, stored, policy=policy()):
            raise users.invalid_password()
    elif not sessions.is_fresh(active.session, now=clock.now()):
        raise BetterAuthError(400, "Session expired. Re-authenticate to perform this action.",
                              "SESSION_EXPIRED")
    with database.transaction() as conn:
        users.delete_user(conn, user_id=active.user.id)
    return responses.json_response({"success": True, "message": "User deleted"},
                                 set_cookies=context.settings().jar.clearing_headers())
