"""Reading the settings: defaults, then the JSON file named by CONFIG_FILE, then the environment.

Every problem is collected and reported at once in a ConfigError, so an operator fixes them in one go: each
setting's own problems (pydantic's validation), then, once every setting is valid, the problems of their
combination (genvid.config.checks). Development generates its secrets once and keeps them under the data dir.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource

from genvid.config import checks
from genvid.config.declaring import env_name
from genvid.config.settings import Config


class ConfigError(Exception):
    """Raised with every configuration problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (os.environ, or a test's dict); a variable
    whose value must be JSON and is not becomes a problem (without echoing it: it may hold secrets)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []
        super().__init__(Config)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()
                if not (self.env_ignore_empty and value == "")}

    def prepare_field_value(self, field_name: str, field: Any, value: Any, value_is_complex: bool) -> Any:
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError:
            self.problems.append(f"{env_name(field_name, field)}: must be JSON (see the README)")
            return None


def environment_variables() -> dict[str, str]:
    """Every environment variable genvid reads, with the setting it sets (CONFIG_FILE names the file)."""
    return {"CONFIG_FILE": "", **{env_name(name, field): name for name, field in Config.model_fields.items()}}


def load(env: Mapping[str, str] | None = None) -> Config:
    """The Config that defaults, CONFIG_FILE and env (os.environ by default) describe;
    ConfigError otherwise."""
    env = os.environ if env is None else env
    problems: list[str] = []
    from_file = _read_config_file(env.get("CONFIG_FILE"), problems)
    environment = _Environment(env)
    from_env = environment()
    problems += environment.problems
    values = {**from_file, **from_env}
    try:
        config = Config.model_validate(values)
    except ValidationError as exc:
        problems += [_describe(error, from_file, from_env) for error in exc.errors()]
        problems += _combination_problems_without(values,
                                                  {str(error["loc"][0]).lower() for error in exc.errors()})
        raise ConfigError(problems) from None
    problems += checks.problems(config)
    if problems:
        raise ConfigError(problems)
    return _with_development_secrets(config)


def _combination_problems_without(values: dict[str, Any], invalid: set[str]) -> list[str]:
    """The combination checks of the settings that are valid on their own, so that one run still reports
    everything: the invalid ones are left at their defaults, and problems naming them are not repeated."""
    try:
        rest = Config.model_validate(
            {key: value for key, value in values.items() if key.lower() not in invalid})
    except ValidationError:
        return []
    named = {env_name(name, field).lower() for name, field in Config.model_fields.items() if name in invalid}
    return [problem for problem in checks.problems(rest)
            if not any(part.strip().lower() in named for part in problem.split(":")[0].split(" and "))]


def load_or_exit() -> Config:
    """load() for a process's entry point: every problem on stderr and exit status 2, no traceback."""
    try:
        return load()
    except ConfigError as exc:
        print(f"genvid: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _read_config_file(path: str | None, problems: list[str]) -> dict[str, Any]:
    """CONFIG_FILE's settings by lower-case name (unknown ones are refused by the model)."""
    if not path:
        return {}
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
    return {str(key).lower(): value for key, value in data.items()}


def _describe(error: Any, from_file: Mapping[str, Any], from_env: Mapping[str, Any]) -> str:
    """One problem, named as the operator wrote it: the variable, or the CONFIG_FILE key, and where inside."""
    key, *inside = error["loc"] or ("",)
    name = str(key).lower()
    if error["type"] == "extra_forbidden" and not inside:
        return f"CONFIG_FILE: unknown setting {key!r}"
    by_variable = {variable.lower(): variable for variable in environment_variables()}
    field = Config.model_fields.get(name)
    variable = env_name(name, field) if field is not None else by_variable.get(name, str(key))
    where = f"CONFIG_FILE: {name}" if name in from_file and name not in from_env else variable
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in inside)
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}{path}: {message}"


def _with_development_secrets(config: Config) -> Config:
    """Production was given its secrets (genvid.config.checks insists); development generates them once."""
    if config.is_production or (config.better_auth_secret and config.encryption_key):
        return config
    stored = _development_secrets(Path(config.data_dir))
    return config.with_overrides(better_auth_secret=config.better_auth_secret or stored["better_auth_secret"],
                                 encryption_key=config.encryption_key or stored["encryption_key"])


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
    # Write-then-link so two processes starting together never read a half-written file.
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
