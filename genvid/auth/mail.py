"""Outgoing mail: SMTP when SMTP_URL is set (`smtp://user:pass@host:port`, `smtps://` for TLS), else the log.

The log fallback is for development and tests only: a mail holds a link with a live token (a password reset
is an account takeover), and production logs are read by people and shipped to other services. So production
without SMTP_URL never logs a body: the routes refuse the mail flows first (`is_configured`), and send()
raises MailNotConfigured should anything call it anyway.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

log = logging.getLogger("genvid.auth.mail")
TIMEOUT_SECONDS = 10
NOT_CONFIGURED = "Email delivery is not configured on this server (SMTP_URL)."


class MailNotConfigured(Exception):
    """Production has no SMTP_URL, so this mail cannot be sent (and must not be logged)."""


def is_configured(*, smtp_url: str | None, environment: str) -> bool:
    """Whether a mail can be delivered: over SMTP, or (outside production) into the log."""
    return bool(smtp_url) or environment != "production"


def warn_if_not_configured(*, smtp_url: str | None, environment: str) -> None:
    """At start: say once, in the log, that production without SMTP_URL refuses the mail flows."""
    if not is_configured(smtp_url=smtp_url, environment=environment):
        log.warning("SMTP_URL is not set: verification, password-reset and email-change requests are refused "
                    "with 503 MAIL_NOT_CONFIGURED until it is")


def send(*, smtp_url: str | None, sender: str, to: str, subject: str, text: str,
         environment: str = "development") -> None:
    """Deliver one plain-text message (outside production, log it when no SMTP server is configured)."""
    if not smtp_url:
        if environment == "production":
            raise MailNotConfigured(NOT_CONFIGURED)
        log.info("mail not sent (no SMTP_URL); logged instead",
                 extra={"to": to, "subject": subject, "body": text})
        return
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(text)
    parts = urlsplit(smtp_url)
    secure = parts.scheme == "smtps"
    host = parts.hostname or "localhost"
    port = parts.port or (465 if secure else 25)
    smtp: smtplib.SMTP = (smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS) if secure
                          else smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS))
    with smtp:
        if not secure:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
    log.info("mail sent", extra={"to": to, "subject": subject})
