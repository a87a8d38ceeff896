"""The get-session baseline for bench/auth.py: a minimal Flask app doing the same single indexed lookup.

No auth logic, no cookies parsing beyond reading one header, no JSON shaping beyond the row: what a bare
Flask + psycopg_pool request costs under the same gunicorn settings as genvid. It runs the generated query
genvid's get-session runs (session + user + signing key in one round trip).
"""
from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from psycopg_pool import ConnectionPool

import db.auth_sessions

app = Flask(__name__)
_pool: ConnectionPool | None = None


def pool() -> ConnectionPool:
    """One pool per worker process, opened after gunicorn forks."""
    global _pool
    if _pool is None:
        _pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1,
                               max_size=int(os.environ.get("DB_POOL_SIZE", "10")), open=True,
                               kwargs={"autocommit": True})
    return _pool


@app.get("/api/auth/get-session")
def get_session() -> ResponseReturnValue:
    """The row for the bearer token in Authorization, or null."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    with pool().connection() as conn:
        row = db.auth_sessions.get_session_user_and_signing_key(conn, token=token, now=datetime.now(UTC))
    if row is None:
        return jsonify(None)
    return jsonify({"session": {"id": row.id, "token": row.token, "expiresAt": row.expires_at.isoformat()},
                    "user": {"id": row.user_id, "email": row.user_email, "name": row.user_name}})
