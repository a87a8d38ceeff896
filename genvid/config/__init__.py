"""Configuration: the only reader of the environment.

`settings.py` declares every setting once (`declaring.py`: how a setting is declared, and the kinds of value
read from text); `loading.py` reads them (defaults, CONFIG_FILE, the environment) and reports every problem at
once, the combinations' from `checks.py`; `models.py` holds the structured values (credit packs, plans, OAuth
providers). Each process loads its Config once, at its entry point (wsgi.py, `genvid worker`, a `genvid`
command), and hands it on: create_app(config) keeps it on the app, where request code reads it
(genvid.http.app_config); code outside a request is passed it, and RQ jobs, which take only ids, read the one
their process started with (genvid.infra.services.started_config()).
"""
from genvid.config.declaring import is_valid_encryption_key
from genvid.config.loading import ConfigError, environment_variables, load, load_or_exit
from genvid.config.models import (
    BUILT_IN_PROVIDERS,
    DEFAULT_PACKS,
    DEFAULT_PLANS,
    CreditPack,
    OAuthProviderConfig,
    Plan,
    origin_of,
)
from genvid.config.settings import MIN_SECRET_LENGTH, SPEECH_CHOICES, Config

__all__ = ["BUILT_IN_PROVIDERS", "DEFAULT_PACKS", "DEFAULT_PLANS", "MIN_SECRET_LENGTH", "SPEECH_CHOICES",
           "Config", "ConfigError", "CreditPack", "OAuthProviderConfig", "Plan", "environment_variables",
           "is_valid_encryption_key", "load", "load_or_exit", "origin_of"]
