"""{{variables}} in a batch's script and title: which ones a template uses, and the text for one row.

A variable is `{{name}}` (spaces inside the braces are allowed: `{{ first name }}`); its name is matched
exactly, case included, against the rows' column names. Filling in is one pass: a value that itself contains
`{{...}}` is inserted as it is, never expanded again. Braces that do not form a variable stay as they are.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE = re.compile(r"\{\{\s*([^{}\s][^{}]*?)\s*\}\}")


def variables(*texts: str | None) -> list[str]:
    """The variable names the texts use, in order of first use, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in VARIABLE.finditer(text or ""):
            seen.setdefault(match.group(1), None)
    return list(seen)


def fill(text: str, values: Mapping[str, str]) -> str:
    """text with every variable replaced by its value (the caller checked that each one has a value)."""
    return VARIABLE.sub(lambda match: values[match.group(1)], text)
