"""Video endpoints (being built)."""
from flask import Blueprint

bp = Blueprint("videos", __name__)
