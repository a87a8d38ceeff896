"""HTTP to providers: bounded by the configured timeout, never following redirects (better-auth refuses them
on server-side OAuth fetches, against SSRF), and every failure turned into ProviderError or None, never a
500."""
from __future__ import annotations

from typing import Any

import requests


class ProviderError(Exception):
    """A provider could not be reached, answered an error, or answered something unusable."""


def get_json(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> Any:
    """The JSON a GET answers, or None on any failure (unreachable, timeout, redirect, error status,
    not JSON)."""
    try:
        response = requests.get(url, headers={"Accept": "application/json", **(headers or {})},
                                timeout=timeout, allow_redirects=False)
        if response.status_code != 200:
            return None
        return response.json()
    except (requests.RequestException, ValueError):
        return None
