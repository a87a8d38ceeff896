"""Outgoing mail: SMTP when SMTP_URL is set (`smtp://user:pass@host:port`, `smtps://` for TLS), else the log.

Production without SMTP_URL still logs (at WARNING) rather than failing the request: the link is never
shown to the caller, so nothing leaks, and an operator sees the misconfiguration at once.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

log = logging.getLogger("genvid.auth.mail")
TIMEOUT_SECONDS = 10


def send(*, smtp_url: str | None, sender: str, to: str, subject: str, text: str,
         environment: str = "development") -> None:
    """Deliver one plain-text message (or log it when no SMTP server is configured)."""
    if not smtp_url:
        level = logging.WARNING if environment == "production" else logging.INFO
        log.log(level, "mail not sent (no SMTP_URL)", extra={"to": to, "subject": subject, "body": text})
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
