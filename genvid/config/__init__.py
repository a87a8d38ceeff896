"""Configuration: the only reader of the environment.

`settings.py` declares every setting once; `loading.py` reads them (defaults, CONFIG_FILE, the environment)
and reports every problem at once; `models.py` holds the structured values (credit packs, plans, OAuth
providers). Processes build their Config at their entry point and hand it on; nothing reads it from a global.
"""
from genvid.config.loading import ConfigError, load, load_or_exit
from genvid.config.models import (
    BUILT_IN_PROVIDERS,
    DEFAULT_PACKS,
    DEFAULT_PLANS,
    CreditPack,
    OAuthProviderConfig,
    Plan,
    origin_of,
)
from genvid.config.settings import (
    MIN_SECRET_LENGTH,
    SPEECH_CHOICES,
    Config,
    environment_variables,
    is_valid_encryption_key,
)

__all__ = ["BUILT_IN_PROVIDERS", "DEFAULT_PACKS", "DEFAULT_PLANS", "MIN_SECRET_LENGTH", "SPEECH_CHOICES", "Config",
           "ConfigError", "CreditPack", "OAuthProviderConfig", "Plan", "environment_variables",
           "is_valid_encryption_key", "load", "load_or_exit", "origin_of"]
