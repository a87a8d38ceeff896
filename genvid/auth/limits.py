"""The lengths an account's fields may have, each stated once, and how they are counted.

Lengths count UTF-16 code units, what JavaScript's `.length` reports, as better-auth (zod) counts them:
'😀' is 2 long. Read by validation.py (body schemas), users.py (password and profile checks) and the web app's
form hints (web/pages.py).
"""
from __future__ import annotations

MIN_PASSWORD_LENGTH = 8          # better-auth's defaults
MAX_PASSWORD_LENGTH = 128
# genvid's own limits (better-auth has none and stores 100,000-character names): an email address is at most
# 254 characters (RFC 5321's path limit, which also bounds the email pattern's work on hostile input), a
# display name 256, an image URL 2,048.
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 256
MAX_IMAGE_LENGTH = 2048


def utf16_length(text: str) -> int:
    """The length JavaScript reports (`.length`): UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
