"""The /api/auth blueprint. Its views live in routes.py (sessions, sign-up/in, profile, password),
email_routes.py, jwt_routes.py, social_routes.py and account_routes.py, each adding them to bp as it is
imported; routes.py imports the other four, so the app gets every view by importing routes.bp."""
from __future__ import annotations

from flask import Blueprint

from genvid.auth import guards

bp = Blueprint("auth", __name__, url_prefix=guards.PREFIX)
bp.before_request(guards.before_request)
