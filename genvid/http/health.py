"""Liveness (/health, touches nothing) and readiness (/ready, checks PostgreSQL and Redis)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from genvid.infra import database, redis_client

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """The process is up and serving HTTP."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> ResponseReturnValue:
    """Both dependencies answer; 503 naming each one that does not."""
    checks = {"postgres": database.ping, "redis": redis_client.ping}
    down = []
    for name, check in checks.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the reason is logged, not returned
            down.append(name)
    if down:
        return jsonify(status="unavailable", down=down), 503
    return jsonify(status="ok", checks={name: "ok" for name in checks})
