"""current_user(): who is making this /api/ request (being built by the auth work)."""
from __future__ import annotations

from dataclasses import dataclass

from genvid.errors import Unauthorized


@dataclass(frozen=True)
class CurrentUser:
    id: str
    email: str
    name: str
    email_verified: bool


def current_user() -> CurrentUser:
    """The signed-in user (session cookie, bearer session token, or JWT), or 401 UNAUTHORIZED."""
    raise Unauthorized()
