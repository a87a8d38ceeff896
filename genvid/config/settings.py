"""Every setting genvid has, declared once: type, default, environment variable, what production needs of it,
and one line of documentation (the README's configuration table is generated from these declarations).

A setting is read from the environment variable named by upper-casing it (unless `env=` says otherwise) and
from CONFIG_FILE under its lower-case name; genvid.config.loading does the reading. How a setting is declared,
and the kinds of value read from text (lists, URLs, keys, seconds), are genvid.config.declaring's; checks that
involve more than one setting are genvid.config.checks'.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from genvid.config.declaring import (
    CommaList,
    EncryptionKey,
    Origins,
    PostgresUrl,
    Seconds,
    setting,
)
from genvid.config.models import (
    DEFAULT_PACKS,
    DEFAULT_PLANS,
    AbsoluteUrl,
    CreditPack,
    OAuthProviderConfig,
    Plan,
    origin_of,
)

MIN_SECRET_LENGTH = 32
# s3://bucket[/prefix]: an S3 bucket name (3-63 of a-z 0-9 . -), then key prefix segments not starting with a
# dot.
_MEDIA_STORAGE_URL = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*/?$"

SpeechSource = Literal["auto", "library", "system", "none"]   # genvid.videos.speech.find_engine's choices
SPEECH_CHOICES: tuple[str, ...] = get_args(SpeechSource)


class Config(BaseSettings):
    """Everything genvid can be told, typed and validated. Build one with genvid.config.load() (defaults,
    CONFIG_FILE, the environment); Config(**values) uses only the values given and the defaults (tests do)."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_by_name=True,
                                      validate_by_alias=True, case_sensitive=False, env_ignore_empty=True)

    # process
    environment: Literal["development", "test", "production"] = setting(
        "development", "`development`, `test` or `production`", production="`production`")
    port: int = setting(8080, "HTTP port of the web process", production="set by the platform", ge=1,
                        le=65535)
    web_concurrency: int = setting(2, "gunicorn worker processes (8 threads each)", ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = setting(
        "INFO", "`DEBUG`, `INFO`, `WARNING`, `ERROR`; logs are JSON lines on stdout")
    data_dir: str = setting(".genvid", "embedded services' data and generated development secrets",
                            env="GENVID_DATA_DIR", production="unused")
    database_url: PostgresUrl | None = setting(
        None, "`postgres://` or `postgresql://` URL", production="**required**",
        shown="unset: embedded PostgreSQL", pattern=r"^postgresql://")
    redis_url: str | None = setting(
        None, "`redis://`, `rediss://` (TLS) or `unix://` URL", production="**required**",
        shown="unset: embedded Redis", pattern=r"^(redis|rediss|unix)://")
    db_pool_size: int = setting(10, "connections per process", ge=1)
    statement_timeout_ms: int = setting(15000, "PostgreSQL `statement_timeout` for every connection", ge=0)

    # auth
    better_auth_secret: str = setting(
        "", "signs session cookies exactly as better-auth does (use the same secret as a better-auth server "
            "sharing the database)", production=f"**required**, >= {MIN_SECRET_LENGTH} chars",
        shown="generated once in development")
    better_auth_url: AbsoluteUrl = setting(
        "http://localhost:8080",
        "public base URL; its origin is trusted; `https://` gives `__Secure-` cookies; "
        "JWT `iss`/`aud`", production="**required**", shown="`http://localhost:PORT`")
    trusted_origins: Origins = setting(
        (), "comma-separated origins allowed for CORS with credentials and for the Origin checks",
        production="as needed", shown="empty")
    encryption_key: EncryptionKey = setting(
        "",
        "encrypts secrets at rest: the JWT private keys (unless `JWT_KEY_ENCRYPTION=better_auth`) and the "
        "HeyGen webhook secret", production="**required**, 32 bytes as base64 or as 64 hex digits",
        shown="generated once in development")
    bcrypt_rounds: int = setting(12, "bcrypt cost for new password hashes", ge=4, le=31)
    password_hash: Literal["bcrypt", "scrypt"] = setting(
        "bcrypt",
        "`bcrypt` or `scrypt` (better-auth's own format; **required when sharing the database with a "
        "better-auth server**, which answers 500 on sign-in for any other hash)")
    jwt_key_encryption: Literal["encryption_key", "better_auth"] = setting(
        "encryption_key",
        "how new JWT private keys are sealed: `encryption_key` (AES-GCM under `ENCRYPTION_KEY`) "
        "or `better_auth` (better-auth's own form under `BETTER_AUTH_SECRET`; **required when "
        "sharing the database with a better-auth server**, which signs with the newest key and "
        "answers 500 on get-session when it cannot open it). Keys in either form are always read; "
        "after a change the signing key is rotated and older keys stay in `/jwks`")
    rate_limit: bool = setting(
        False,
        "`on`/`off`; counts are kept in Redis and shared by every process. While Redis is unreachable the "
        "strict rules (sign-in, sign-up, password and email changes, reset and verification mails) answer "
        "503 with `Retry-After` rather than allow unlimited guessing; everything else (get-session above "
        "all) passes uncounted and the outage is logged",
        shown="on in production, off otherwise")
    trusted_proxy_count: int = setting(
        1,
        "proxies in front of genvid (Heroku's router is one); the client IP is read from `X-Forwarded-For` "
        "accordingly", ge=0)
    smtp_url: str | None = setting(
        None, "`smtp://user:pass@host:587` (STARTTLS) or `smtps://...:465`. A mail holds a live token, so "
              "production never logs one: without `SMTP_URL` it answers verification, password-reset and "
              "email-change requests with 503 `MAIL_NOT_CONFIGURED` (and says so at start)",
        production="**required for mail**", shown="unset: mails are logged")
    mail_from: str = setting("genvid <no-reply@localhost>", "sender of verification and reset mails",
                             production="recommended")

    # social sign-in
    google_client_id: str | None = setting(
        None, "a Google OAuth client, with `GOOGLE_CLIENT_SECRET` (both or neither); see Social sign-in",
        production="for Google", shown="unset: no Google sign-in")
    google_client_secret: str | None = setting(None, "the Google OAuth client's secret",
                                               production="for Google")
    github_client_id: str | None = setting(
        None, "a GitHub OAuth app, with `GITHUB_CLIENT_SECRET` (both or neither)", production="for GitHub",
        shown="unset: no GitHub sign-in")
    github_client_secret: str | None = setting(None, "the GitHub OAuth app's secret", production="for GitHub")
    oauth_providers: tuple[OAuthProviderConfig, ...] = setting(
        (), "JSON list of other OAuth 2.0 / OIDC providers; see Social sign-in", production="as needed")
    trusted_providers: CommaList = setting(
        (),
        "comma-separated provider ids whose accounts link to an existing user with the same email even when "
        "the provider does not say the email is verified (better-auth's `accountLinking.trustedProviders`)")
    oauth_token_encryption: Literal["none", "better_auth"] = setting(
        "none", "`none` (provider tokens stored as given: what a better-auth server reads by default) or "
                "`better_auth` (sealed as better-auth's `account.encryptOAuthTokens` does, under "
                "`BETTER_AUTH_SECRET`; give a sharing better-auth server that option too)")
    google_api_base: AbsoluteUrl | None = setting(None, "tests and local fakes only", production="no",
                                                  shown="Google's own hosts")
    github_api_base: AbsoluteUrl | None = setting(None, "tests and local fakes only", production="no",
                                                  shown="GitHub's own hosts")

    # billing
    stripe_secret_key: str | None = setting(None, "Stripe secret key", production="for billing",
                                            shown="unset: billing answers 503 `BILLING_DISABLED`")
    stripe_webhook_secret: str | None = setting(None, "the webhook endpoint's `whsec_...` signing secret",
                                                production="for billing")
    stripe_api_base: str = setting("https://api.stripe.com", "tests and local fakes only", production="no")
    app_url: AbsoluteUrl | None = setting(
        None, "the web app, where Checkout, the portal and mails return people",
        production="if the front end "
                   "lives elsewhere", shown="genvid's own origin (that of `BETTER_AUTH_URL`)")
    credit_packs: tuple[CreditPack, ...] = setting(DEFAULT_PACKS, "one-time credit packs, a JSON list "
                                                                  "(see Billing)", shown="3 packs")
    plans: tuple[Plan, ...] = setting(DEFAULT_PLANS, "monthly plans, a JSON list (see Billing)",
                                      shown="2 plans")
    stripe_timeout_seconds: Seconds = setting(10.0, "seconds before a Stripe call is given up")
    stripe_max_network_retries: int = setting(2, "Stripe client retries of network failures", ge=0)

    # videos
    video_provider: Literal["local", "heygen"] = setting(
        "local", "`heygen` or `local` (offline renderer)",
        shown="`heygen` if `HEYGEN_API_KEY` is set, else `local`")
    heygen_api_key: str | None = setting(None, "HeyGen API key (`x-api-key`)", production="for HeyGen")
    heygen_api_base: str = setting("https://api.heygen.com", "tests and local fakes only", production="no")
    heygen_webhook_secret: str | None = setting(
        None, "webhook secret, if not registered through `genvid heygen register-webhook`")
    heygen_max_concurrent: int = setting(10, "renders in flight at once (pay-as-you-go allows 10)", ge=1)
    heygen_timeout_seconds: Seconds = setting(30.0, "seconds before a HeyGen call is given up")
    render_timeout: int = setting(1800, "seconds after which an unfinished render fails and is refunded",
                                  ge=10)
    render_poll_seconds: Seconds = setting(30.0, "seconds between status checks of a render in flight")
    render_retry_base_seconds: Seconds = setting(
        2.0, "first backoff after a transient provider error (doubles)")
    render_capped_seconds: Seconds = setting(
        5.0, "wait before retrying a submit held back by `HEYGEN_MAX_CONCURRENT`")
    render_lease_seconds: float = setting(
        20.0, "a running job's claim on its video, renewed while its worker lives", ge=5)
    render_redispatch_seconds: Seconds = setting(
        60.0, "a dispatched step that no job has started is dispatched again after this many seconds")
    event_stream_seconds: Seconds = setting(
        60.0, "a live video event stream ends after this many seconds (EventSource then reconnects)")
    event_streams_per_user: int = setting(2, "event streams one user may hold open across every web process",
                                          ge=1)
    media_dir: str = setting(".genvid/media", "where finished MP4s and thumbnails are stored on disk",
                             production="only without `MEDIA_STORAGE_URL`", shown="`GENVID_DATA_DIR/media`")
    media_storage_url: str | None = setting(
        None,
        "`s3://bucket` or `s3://bucket/prefix`: finished MP4s and thumbnails in S3-compatible object storage "
        "(AWS S3, Cloudflare R2, MinIO, Bucketeer), see Media storage",
        production="**required with more than one machine** (Heroku)", shown="unset: files under `MEDIA_DIR`",
        pattern=_MEDIA_STORAGE_URL)
    local_render_height: int | None = setting(
        None, "offline renderer frame height", shown="the requested resolution", ge=64, le=2160)
    local_speech: SpeechSource = setting(
        "auto",
        "offline renderer speech: `auto`, `library` (eSpeak NG wheel), `system` (`espeak-ng`), `none`")
    oauth_timeout_seconds: Seconds = setting(10.0, "seconds before a call to an OAuth provider is given up")

    # developer platform: API keys (better-auth's api-key plugin) and outbound webhooks (genvid/outbound)
    api_key_prefix: str = setting(
        "gv_",
        "prefix of new API keys (better-auth's `defaultPrefix`; a sharing better-auth server needs the same)",
        pattern=r"^[A-Za-z0-9_-]{0,32}$")
    api_key_rate_limit_enabled: bool = setting(True,
                                               "`on`/`off`: the per-key rate limit of keys that have one")
    api_key_rate_limit_max: int = setting(
        100, "requests a new key may make while they come less than a window apart", ge=1, le=2**31 - 1)
    api_key_rate_limit_window_ms: int = setting(1000, "a new key's rate-limit window, in milliseconds",
                                                ge=1, le=2**31 - 1)
    credits_low_threshold: int = setting(
        10, "the `credits.low` webhook fires when a render's debit takes the balance below this", ge=0)
    webhook_timeout_seconds: Seconds = setting(
        10.0, "one outbound webhook attempt (connect, send, answer, read) is given up after this")
    webhook_max_response_bytes: int = setting(
        65536, "at most this much of a webhook receiver's answer is read", ge=1024)
    webhook_retry_base_seconds: Seconds = setting(
        15.0, "first wait before retrying a failed webhook delivery (doubles per failed attempt)")
    webhook_retry_cap_seconds: Seconds = setting(14400.0, "the longest wait between two webhook attempts")
    webhook_retry_window_seconds: Seconds = setting(
        86400.0, "webhook retries stop after this, and an endpoint failing all along is disabled")
    webhook_redispatch_seconds: Seconds = setting(
        60.0,
        "a dispatched webhook delivery that no job has started is dispatched again after this many seconds")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Config(**values) reads nothing but its arguments; genvid.config.load() chooses the sources."""
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _derived_defaults(cls, values: Any) -> Any:
        """Defaults that depend on other settings, filled in only where nothing was given."""
        if not isinstance(values, dict):
            return values
        given = {key.lower(): key for key in values}
        def value(name: str) -> Any:
            return values.get(given.get(name, name))
        derived = {
            "rate_limit": value("environment") == "production",
            "video_provider": "heygen" if value("heygen_api_key") else "local",
        }
        if str(value("port")).isdigit():
            derived["better_auth_url"] = f"http://localhost:{value('port')}"
        if "genvid_data_dir" in given or "data_dir" in given:
            derived["media_dir"] = str(Path(str(value("genvid_data_dir") or value("data_dir"))) / "media")
        return {**{k: v for k, v in derived.items() if k not in given}, **values}

    @field_validator("log_level", "password_hash", "jwt_key_encryption", "environment", "video_provider",
                     "oauth_token_encryption", "local_speech", mode="before")
    @classmethod
    def _normalise_case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()

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
    def allowed_origins(self) -> frozenset[str]:
        """TRUSTED_ORIGINS plus the origin of BETTER_AUTH_URL, as origins (no paths): the one list CORS allows
        with credentials and the Origin checks and callback URLs of /api/auth accept."""
        origins = {origin_of(o) for o in self.trusted_origins} | {self.base_origin}
        return frozenset(o for o in origins if o)

    @property
    def app_base_url(self) -> str:
        """APP_URL without a trailing slash: the web app that Checkout, the portal and mails return people to.
        Unset, it is genvid's own origin, which serves the web app."""
        return (self.app_url or self.base_origin).rstrip("/")

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with some settings replaced, validated again (tests and the CLI use it)."""
        return type(self).model_validate({**self.model_dump(), **changes})
