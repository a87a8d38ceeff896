"""Billing endpoints (being built)."""
from flask import Blueprint

bp = Blueprint("billing", __name__)
