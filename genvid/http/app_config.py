"""The one way request code reaches configuration: the Config of the app serving the request.

create_app(config) keeps it on the app (keep()); views, guards and pages read it with app_config(). Code that
runs outside a request is handed its process's Config instead (genvid.infra.services).
"""
from __future__ import annotations

from flask import Flask

from genvid.config import Config
from genvid.http.request_context import this_app

_KEY = "GENVID"     # app.config["GENVID"]; tests read it there too


def keep(app: Flask, config: Config) -> None:
    """Make config the Config of app."""
    app.config[_KEY] = config


def app_config(app: Flask | None = None) -> Config:
    """The Config of app, or of the app handling the current request (RuntimeError outside one)."""
    config: Config = (app or this_app()).config[_KEY]
    return config
