"""The rules of better-auth's api-key plugin (npm @better-auth/api-key 1.7.5) that do not touch the database:
its options and their defaults, its error codes and messages, and its checks of what a key is given.

A refusal is an ApiKeyRefused, answered on /api/auth as better-auth answers it ({"message", "code"}). The
checks run in the plugin's order from apikeys (create, update); lengths count UTF-16 units, as JavaScript
does, and expiry is given in seconds and bounded in days.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genvid.auth.apikey_json import js_truthy
from genvid.auth.limits import utf16_length
from genvid.errors import BetterAuthError

# The plugin's error codes and messages (API_KEY_ERROR_CODES), the ones genvid can meet.
MESSAGES = {
    "INVALID_METADATA_TYPE": "metadata must be an object or undefined",
    "REFILL_AMOUNT_AND_INTERVAL_REQUIRED": "refillAmount is required when refillInterval is provided",
    "REFILL_INTERVAL_AND_AMOUNT_REQUIRED": "refillInterval is required when refillAmount is provided",
    "UNAUTHORIZED_SESSION": "Unauthorized or invalid session",
    "KEY_NOT_FOUND": "API Key not found",
    "KEY_DISABLED": "API Key is disabled",
    "KEY_EXPIRED": "API Key has expired",
    "USAGE_EXCEEDED": "API Key has reached its usage limit",
    "EXPIRES_IN_IS_TOO_SMALL": "The expiresIn is smaller than the predefined minimum value.",
    "EXPIRES_IN_IS_TOO_LARGE": "The expiresIn is larger than the predefined maximum value.",
    "INVALID_PREFIX_LENGTH": "The prefix length is either too large or too small.",
    "INVALID_NAME_LENGTH": "The name length is either too large or too small.",
    "METADATA_DISABLED": "Metadata is disabled.",
    "RATE_LIMIT_EXCEEDED": "Rate limit exceeded.",
    "NO_VALUES_TO_UPDATE": "No values to update.",
    "INVALID_API_KEY": "Invalid API key.",
    "SERVER_ONLY_PROPERTY": "The property you're trying to set can only be set from the server auth instance "
                            "only.",
    "ORGANIZATION_PLUGIN_REQUIRED": "Organization plugin is required for organization-owned API keys. "
                                    "Please install and configure the organization plugin.",
}


class ApiKeyRefused(BetterAuthError):
    """A refusal the plugin makes, answered as better-auth answers it on /api/auth ({"message", "code"})."""

    def __init__(self, status: int, code: str, *, message: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(status, message or MESSAGES[code], code)
        self.details = details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(super().body())
        if self.details is not None:
            body["details"] = self.details
        return body


@dataclass(frozen=True)
class ApiKeyOptions:
    """The plugin's options genvid supports; the defaults here are the plugin's own."""

    default_prefix: str | None = None
    key_length: int = 64
    minimum_prefix_length: int = 1
    maximum_prefix_length: int = 32
    minimum_name_length: int = 1
    maximum_name_length: int = 32
    enable_metadata: bool = False
    rate_limit_enabled: bool = True
    rate_limit_time_window: int = 86_400_000      # ms
    rate_limit_max: int = 10
    min_expires_in_days: float = 1
    max_expires_in_days: float = 365
    start_length: int = 6
    default_permissions: Mapping[str, Sequence[str]] | None = None

    def better_auth_options(self) -> dict[str, Any]:
        """The `apiKey({...})` options that make a better-auth server sharing the database behave alike."""
        options: dict[str, Any] = {
            "enableMetadata": self.enable_metadata,
            "rateLimit": {"enabled": self.rate_limit_enabled, "timeWindow": self.rate_limit_time_window,
                          "maxRequests": self.rate_limit_max},
        }
        if self.default_prefix:
            options["defaultPrefix"] = self.default_prefix
        if self.default_permissions is not None:
            options["permissions"] = {
                "defaultPermissions": {k: list(v) for k, v in self.default_permissions.items()}}
        return options


def check_metadata(metadata: Any, options: ApiKeyOptions) -> None:
    """create's metadata rule: a truthy value needs metadata enabled and must be an object (or array)."""
    if not js_truthy(metadata):
        return
    if not options.enable_metadata:
        raise ApiKeyRefused(400, "METADATA_DISABLED")
    if not isinstance(metadata, (dict, list)):
        raise ApiKeyRefused(400, "INVALID_METADATA_TYPE")


def check_expires_in(expires_in: float, options: ApiKeyOptions) -> None:
    """Expiry given in seconds, bounded in days."""
    days = expires_in / 86400
    if days < options.min_expires_in_days:
        raise ApiKeyRefused(400, "EXPIRES_IN_IS_TOO_SMALL")
    if days > options.max_expires_in_days:
        raise ApiKeyRefused(400, "EXPIRES_IN_IS_TOO_LARGE")


def check_name(name: str, options: ApiKeyOptions) -> None:
    """A name's length, counted in UTF-16 units as JavaScript counts it."""
    if not options.minimum_name_length <= utf16_length(name) <= options.maximum_name_length:
        raise ApiKeyRefused(400, "INVALID_NAME_LENGTH")


def check_prefix(prefix: str, options: ApiKeyOptions) -> None:
    """A prefix's length, counted likewise."""
    if not options.minimum_prefix_length <= utf16_length(prefix) <= options.maximum_prefix_length:
        raise ApiKeyRefused(400, "INVALID_PREFIX_LENGTH")
