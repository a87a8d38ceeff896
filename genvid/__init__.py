"""genvid: backend of an AI avatar-video SaaS (better-auth compatible auth, Stripe credits, HeyGen renders).

The package root holds nothing but this re-export of the app factory (genvid.app). Importing any genvid module
runs this file, so it loads nothing itself: the worker and the CLI never load Flask or a blueprint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from genvid.config import Config


def create_app(config: Config | None = None) -> Flask:
    """genvid.app.create_app(config): the WSGI app."""
    from genvid import app  # not at import time: see the module docstring

    return app.create_app(config)
