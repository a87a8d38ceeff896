"""genvid: backend of an AI avatar-video SaaS (better-auth compatible auth, Stripe credits, HeyGen renders)."""
from __future__ import annotations

from flask import Flask

from genvid.config import Config

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Config | None = None) -> Flask:
    """Build the WSGI app: configuration, database and Redis wiring, middleware, blueprints (the API, then the
    web app's pages and the API reference), error mapping."""
    from genvid import api, cors, errors, health, logs, middleware, openapi, runtime
    from genvid.auth import mail
    from genvid.auth.routes import bp as auth_bp
    from genvid.batches.routes import bp as batches_bp
    from genvid.billing.routes import bp as billing_bp
    from genvid.outbound.routes import bp as outbound_bp
    from genvid.videos import media
    from genvid.videos.routes import bp as videos_bp
    from genvid.web import docs, pages

    config = runtime.init(config or Config.load())
    logs.setup(config.log_level)
    media.warn_if_media_on_local_disk(config)   # gunicorn preloads the app: once per web process tree
    mail.warn_if_not_configured(smtp_url=config.smtp_url, environment=config.environment)
    app = middleware.App(__name__)
    app.config.update(
        GENVID=config,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # better-auth's key order is part of the wire format
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.url_map.converters["id"] = api.IdConverter
    middleware.init_app(app)
    errors.init_app(app)
    cors.init_app(app, config)
    for blueprint in (health.bp, openapi.bp, auth_bp, billing_bp, videos_bp, batches_bp, outbound_bp):
        app.register_blueprint(blueprint)
    pages.init_app(app)
    docs.init_app(app)
    return app
