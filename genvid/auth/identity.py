"""CurrentUser: who is calling, as the rest of genvid needs to know it. Plain data, free of Flask, so domain
code (billing's checkout and customers) can take it; genvid.auth.current works it out from a request."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CurrentUser:
    """The caller, as far as the rest of the API needs to know."""

    id: str
    email: str
    name: str
    email_verified: bool
    api_key_id: str | None = None     # set when the caller authenticated with an API key
