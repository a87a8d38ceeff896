"""The app factory: create_app(config) wires the HTTP plumbing (genvid.http), every domain's blueprint and the
web app's pages (genvid.web) into one Flask app holding its Config."""
from __future__ import annotations

from flask import Flask

from genvid.auth import get_session, mail
from genvid.auth.apikey_permissions import ENDPOINTS as API_KEY_PERMISSIONS
from genvid.auth.routes import bp as auth_bp
from genvid.batches.routes import bp as batches_bp
from genvid.billing.routes import bp as billing_bp
from genvid.config import Config, load
from genvid.http import api, app_config, cors, health, middleware, openapi
from genvid.http import errors as http_errors
from genvid.outbound.routes import bp as outbound_bp
from genvid.videos import media
from genvid.videos.routes import bp as videos_bp
from genvid.web import docs, pages

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Config | None = None) -> Flask:
    """Build the WSGI app holding config (loaded from the environment when not given): middleware, blueprints
    (the API, then the web app's pages and the API reference), error mapping.

    It changes nothing outside the app: the process's entry point has connected the process to its database
    and Redis and set up logging (genvid.infra.services.start) before it builds the app.
    """
    config = config or load()
    media.warn_if_media_on_local_disk(config)   # gunicorn preloads the app: once per web process tree
    mail.warn_if_not_configured(smtp_url=config.smtp_url, environment=config.environment)
    app = Flask("genvid")   # its name and root folder (genvid/), as when the factory lived in __init__
    app_config.keep(app, config)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # better-auth's key order is part of the wire format
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.url_map.converters["id"] = api.IdConverter
    get_session.init_app(app)        # before middleware: its RequestLifecycle must wrap the fast path too
    middleware.init_app(app)
    http_errors.init_app(app)
    cors.init_app(app, config)
    app.register_blueprint(health.bp)
    openapi.init_app(app, api_key_permissions=API_KEY_PERMISSIONS)   # which operations take an API key
    for blueprint in (auth_bp, billing_bp, videos_bp, batches_bp, outbound_bp):
        app.register_blueprint(blueprint)
    pages.init_app(app)
    docs.init_app(app)
    return app
