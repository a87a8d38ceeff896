"""The api-key plugin's zod schemas for its bodies and query strings, with zod 4's messages.

Each field is checked in the schema's order and every problem is reported, joined by "; ", as better-call
answers (400 VALIDATION_ERROR, `[body.name] Invalid input: expected string, received number`). Unknown keys
are dropped, as z.object() does.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from genvid.auth.validation import UNDEFINED, expected, js_type, validation_error

_PREFIX = re.compile(r"^[a-zA-Z0-9_-]+$")
_PREFIX_MESSAGE = "Invalid prefix format, must be alphanumeric and contain only underscores and hyphens."


@dataclass(frozen=True)
class Rule:
    """One key: its zod type and checks. kinds: string, number, boolean, any, permissions (a record of string
    arrays), coerced (z.coerce.string), count (z.coerce.number().int().nonnegative()), direction."""

    name: str
    kind: str
    required: bool = False
    nullable: bool = False
    minimum: int | None = None
    prefix: bool = False


CREATE = (
    Rule("configId", "string"), Rule("name", "string"), Rule("expiresIn", "number", nullable=True, minimum=1),
    Rule("prefix", "string", prefix=True), Rule("remaining", "number", nullable=True, minimum=0),
    Rule("metadata", "any"), Rule("refillAmount", "number", minimum=1), Rule("refillInterval", "number"),
    Rule("rateLimitTimeWindow", "number"), Rule("rateLimitMax", "number"),
    Rule("rateLimitEnabled", "boolean"),
    Rule("permissions", "permissions"), Rule("userId", "coerced"), Rule("organizationId", "coerced"),
)
UPDATE = (
    Rule("configId", "string"), Rule("keyId", "string", required=True), Rule("userId", "coerced"),
    Rule("name", "string"), Rule("enabled", "boolean"), Rule("remaining", "number", minimum=1),
    Rule("refillAmount", "number"), Rule("refillInterval", "number"), Rule("metadata", "any"),
    Rule("expiresIn", "number", nullable=True, minimum=1), Rule("rateLimitEnabled", "boolean"),
    Rule("rateLimitTimeWindow", "number"), Rule("rateLimitMax", "number"),
    Rule("permissions", "permissions", nullable=True),
)
DELETE = (Rule("configId", "string"), Rule("keyId", "string", required=True))
GET_QUERY = (Rule("configId", "string"), Rule("id", "string", required=True))
LIST_QUERY = (
    Rule("configId", "string"), Rule("organizationId", "string"), Rule("limit", "count"),
    Rule("offset", "count"), Rule("sortBy", "string"), Rule("sortDirection", "direction"),
)


def validate_body(body: Any, rules: tuple[Rule, ...]) -> dict[str, Any]:
    """The body as the handler sees it (coercions applied, unknown keys dropped), or 400 VALIDATION_ERROR."""
    if not isinstance(body, dict):
        raise validation_error([f"[body] {expected('object', body)}"])
    return _validate(body, rules, "body")


def validate_query(args: dict[str, str], rules: tuple[Rule, ...]) -> dict[str, Any]:
    """A query string checked as better-call checks it (values are strings until coerced)."""
    return _validate(dict(args), rules, "query")


def _validate(source: dict[str, Any], rules: tuple[Rule, ...], where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    problems: list[str] = []
    for rule in rules:
        value = source.get(rule.name, UNDEFINED)
        if value is UNDEFINED and not rule.required:
            continue
        checked, issues = _check(rule, value)
        problems.extend(f"[{where}.{path}] {message}" if path else f"[{where}.{rule.name}] {message}"
                        for path, message in issues)
        if not issues:
            result[rule.name] = checked
    if problems:
        raise validation_error(problems)
    return result


def _check(rule: Rule, value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """(the value after coercion, [(path, message)])."""
    if value is None and rule.nullable:
        return None, []
    kind = rule.kind
    if kind == "any":
        return value, []
    if kind == "coerced":
        return value, []                              # z.coerce.string() accepts anything
    if kind == "count":
        return _count(value)
    if kind == "direction":
        if value in ("asc", "desc"):
            return value, []
        return value, [("", 'Invalid option: expected one of "asc"|"desc"')]
    if kind == "permissions":
        return value, _permissions(rule.name, value)
    if js_type(value) != kind:
        return value, [("", expected(kind, value))]
    if kind == "number" and rule.minimum is not None and value < rule.minimum:
        return value, [("", f"Too small: expected number to be >={rule.minimum}")]
    if rule.prefix and not _PREFIX.match(value):
        return value, [("", _PREFIX_MESSAGE)]
    return value, []


def _count(value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """z.coerce.number().int().nonnegative() on a query value: Number(value), then the checks."""
    number = _js_number(value)
    if math.isnan(number):
        return value, [("", "Invalid input: expected number, received NaN")]
    if not number.is_integer():
        return value, [("", "Invalid input: expected int, received number")]
    if number < 0:
        return value, [("", "Too small: expected number to be >=0")]
    return int(number), []


def _js_number(value: Any) -> float:
    """JavaScript's Number(string): '' is 0, blanks around are ignored, only "Infinity" is infinite, and
    anything else Python would read but JavaScript not (1_000, inf, nan) is NaN."""
    text = str(value).strip()
    if not text:
        return 0.0
    if text.lstrip("+-") == "Infinity":
        return -math.inf if text.startswith("-") else math.inf
    if "_" in text or text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return math.nan
    try:
        return float(int(text, 0)) if text[:2].lower() in ("0x", "0o", "0b") else float(text)
    except ValueError:
        return math.nan


def _permissions(name: str, value: Any) -> list[tuple[str, str]]:
    """z.record(z.string(), z.array(z.string()))."""
    if not isinstance(value, dict):
        return [("", expected("record", value))]
    issues = []
    for resource, actions in value.items():
        if not isinstance(actions, list):
            issues.append((f"{name}.{resource}", expected("array", actions)))
            continue
        issues.extend((f"{name}.{resource}.{index}", expected("string", action))
                      for index, action in enumerate(actions) if not isinstance(action, str))
    return issues


# What the OpenAPI document shows of each rule: the zod checks above, nothing more (a value the document
# refuses is refused here). The server-only fields are left out: over HTTP they are refused whatever they
# hold.
_DOCUMENTED = {
    "create": ("name", "prefix", "expiresIn", "metadata"),
    "update": ("keyId", "name", "enabled", "expiresIn", "metadata"),
    "delete": ("keyId",),
}
_DESCRIPTIONS = {
    "name": "1-32 characters.",
    "prefix": "1-32 characters; the key starts with it (default: API_KEY_PREFIX).",
    "expiresIn": "Seconds from now, between 1 and 365 days; null for no expiry.",
    "metadata": "An object of your own, returned with the key.",
    "enabled": "false disables the key (its calls are refused with KEY_DISABLED).",
}


def _rule_schema(rule: Rule) -> dict[str, Any]:
    schema: dict[str, Any]
    if rule.kind in ("string", "number", "boolean"):
        schema = {"type": [rule.kind, "null"] if rule.nullable else rule.kind}
    elif rule.kind == "direction":
        schema = {"enum": ["asc", "desc"]}
    else:                                     # any, coerced, count: anything (count: a string Number() reads)
        schema = {}
    if rule.minimum is not None:
        schema["minimum"] = rule.minimum
    if rule.prefix:
        schema["pattern"] = _PREFIX.pattern
    if rule.name in _DESCRIPTIONS:
        schema["description"] = _DESCRIPTIONS[rule.name]
    return schema


def body_json_schema(operation: str) -> dict[str, Any]:
    """The documented body of create, update or delete (extra keys are accepted, as z.object() drops them)."""
    rules = {"create": CREATE, "update": UPDATE, "delete": DELETE}[operation]
    shown = [rule for rule in rules if rule.name in _DOCUMENTED[operation]]
    schema: dict[str, Any] = {"type": "object",
                              "properties": {rule.name: _rule_schema(rule) for rule in shown}}
    required = [rule.name for rule in shown if rule.required]
    if required:
        schema["required"] = required
    return schema


def query_parameters(rules: tuple[Rule, ...]) -> tuple[dict[str, Any], ...]:
    """The documented query parameters (a query value is a string until a rule coerces it)."""
    described = []
    for rule in rules:
        if rule.name in ("configId", "organizationId"):
            continue                          # the default configuration only; no organization plugin
        schema = _rule_schema(rule) if rule.kind == "direction" else {"type": "string"}
        parameter: dict[str, Any] = {"name": rule.name, "in": "query", "required": rule.required,
                                     "schema": schema}
        if rule.kind == "count":
            parameter["description"] = "A whole number, 0 or more."
        described.append(parameter)
    return tuple(described)


def nul_problems(values: dict[str, Any], where: str) -> list[str]:
    """zod-worded issues for top-level strings holding U+0000, which PostgreSQL cannot store or compare (the
    plugin answers 500 there); metadata is stored as JSON text, where U+0000 is escaped."""
    return [f"[{where}.{name}] Invalid string: must not contain U+0000" for name, value in values.items()
            if isinstance(value, str) and "\x00" in value]
