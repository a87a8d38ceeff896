"""better-auth compatible endpoints under /api/auth (being built)."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
