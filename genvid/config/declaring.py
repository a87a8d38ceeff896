"""How a setting is declared, and the kinds of value settings share.

setting() declares one: its default, one line of documentation, the environment variable it is read from and
what production needs of it (tools/config_table.py turns these into the README's table); env_name() says which
variable that is. The types below read a value as an operator writes it, in the environment or in CONFIG_FILE,
so a setting's annotation says how it is read instead of a validator naming it: comma-separated lists,
Heroku's `postgres://` URLs, encryption keys as 64 hex digits, durations in seconds.
"""
from __future__ import annotations

import base64
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.fields import FieldInfo
from pydantic_settings import NoDecode

from genvid.config.models import AbsoluteUrl

_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


def setting(default: Any, doc: str, *, env: str | None = None, production: str = "optional",
            shown: str | None = None, **constraints: Any) -> Any:
    """Declare a setting: its default, one line saying what it does, the environment variable it is read from
    (its upper-cased name unless env is given), what production needs of it, how the README shows its
    default (`shown`, when the value itself would mislead), and pydantic constraints (ge=, pattern=, ...)."""
    extra: dict[str, Any] = {"env": env, "production": production, "shown": shown}
    if env:
        constraints["validation_alias"] = env
    return Field(default, description=doc, json_schema_extra=extra, **constraints)


def env_name(name: str, field: FieldInfo) -> str:
    """The environment variable a setting is read from."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return str(extra.get("env") or name.upper())


def _comma_separated(value: Any) -> Any:
    """`a, b,` in the environment; CONFIG_FILE gives a JSON list, passed on as it is."""
    if not isinstance(value, str):
        return value
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _postgresql_scheme(value: Any) -> Any:
    """Heroku hands out postgres:// URLs; libpq takes both spellings but some tools want postgresql://."""
    if isinstance(value, str) and value.strip().startswith("postgres://"):
        return "postgresql://" + value.strip()[len("postgres://"):]
    return value


def _hex_to_base64(value: Any) -> Any:
    """64 hex digits (what Heroku's app.json secret generator makes) become the same 32 bytes in base64: a
    64-digit hex string is never base64 of 32 bytes, so nothing is ambiguous."""
    if isinstance(value, str) and _HEX_KEY.match(value.strip()):
        return base64.b64encode(bytes.fromhex(value.strip())).decode()
    return value.strip() if isinstance(value, str) else value


def is_valid_encryption_key(value: str) -> bool:
    """True when value is standard base64 of exactly 32 bytes."""
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (ValueError, TypeError):
        return False


def _key_of_32_bytes(value: str) -> str:
    if value and not is_valid_encryption_key(value):
        raise ValueError("must be base64 of exactly 32 bytes (or 64 hex digits)")
    return value


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]
Origins = Annotated[tuple[AbsoluteUrl, ...], NoDecode, BeforeValidator(_comma_separated)]
PostgresUrl = Annotated[str, BeforeValidator(_postgresql_scheme)]
EncryptionKey = Annotated[str, BeforeValidator(_hex_to_base64), AfterValidator(_key_of_32_bytes)]
Seconds = Annotated[float, Field(gt=0)]        # a duration or a wait, never zero
