"""JSON request bodies read the way better-auth's JavaScript reads them, and the text PostgreSQL cannot store.

- Nesting: Python's json module gives up (RecursionError) near 1,000 levels; JavaScript's JSON.parse does not,
  so better-auth answers a 2,000-deep body with an ordinary validation error. loads(cap_depth=True) therefore
  replaces every value nested deeper than MAX_DEPTH by an empty value of the same kind (`[]` or `{}`): the
  caller's checks see the same types and answer as better-auth does. loads(cap_depth=False) refuses such a
  body instead (TooDeep), for the /api/ envelope, whose bodies are flat.
- Lone surrogates (`"\\ud800"`): Python keeps them and PostgreSQL's UTF-8 refuses them later; JavaScript
  stores U+FFFD instead, and so does this module.
- NaN and Infinity are not JSON (JSON.parse refuses them); neither does this module accept them.
- NUL (U+0000) is valid JSON and valid in a URL (%00), but a PostgreSQL text value cannot hold it:
  nul_fields() names every string (or key) that contains one, for the caller to refuse.
"""
from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class MalformedJSON(ValueError):
    """Not JSON (or not UTF-8)."""


class TooDeep(Exception):
    """Valid JSON nested deeper than this process can parse."""


def loads(raw: bytes, *, cap_depth: bool) -> Any:
    """The JSON value of raw; see the module docstring for depth, surrogates and NaN."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        if not cap_depth:
            raise TooDeep("nested too deeply") from None
        value = _loads_capped(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJSON(str(exc)) from None
    if _ESCAPED_SURROGATE.search(raw):
        value = _without_lone_surrogates(value)
    return value


def _loads_capped(raw: bytes) -> Any:
    try:
        return json.loads(_capped(raw.decode("utf-8")), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJSON(str(exc)) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _capped(text: str) -> str:
    """text with every array or object that opens deeper than MAX_DEPTH replaced by an empty one."""
    pieces: list[str] = []
    depth, kept_to, cut_at, cut_depth = 0, 0, -1, 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH and cut_at < 0:
                cut_at, cut_depth = match.start(), depth
        elif token in "]}":
            if cut_at >= 0 and depth == cut_depth:
                pieces += [text[kept_to:cut_at], "[]" if token == "]" else "{}"]
                kept_to, cut_at = match.end(), -1
            depth -= 1
    pieces.append(text[kept_to:])
    return "".join(pieces)


def _without_lone_surrogates(value: Any) -> Any:
    """value with U+FFFD for every lone surrogate in its strings and keys (as JavaScript encodes them)."""
    def fix(text: str) -> str:
        return _LONE_SURROGATE.sub("\ufffd", text)

    def walk(item: Any, depth: int) -> Any:
        if isinstance(item, str):
            return fix(item)
        if depth > MAX_DEPTH * 20:          # far deeper than any body that matters: leave it be
            return item
        if isinstance(item, list):
            return [walk(element, depth + 1) for element in item]
        if isinstance(item, dict):
            return {fix(key): walk(element, depth + 1) for key, element in item.items()}
        return item
    return walk(value, 0)


def nul_fields(value: Any, prefix: str = "") -> list[str]:
    """Dotted paths (list indexes as numbers) of the strings and keys in value that contain U+0000."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                found.append(path)
        elif isinstance(item, dict):
            for key, element in item.items():
                child = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    found.append(child)
                stack.append((child, element))
        elif isinstance(item, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), element) for index, element in enumerate(item))
    return sorted(found)
