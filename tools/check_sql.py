#!/usr/bin/env python3
"""No SQL strings outside queries/ and migrations/ (run by `make lint`).

Every statement genvid runs is written in queries/*.sql (sqlc generates db/ from it) or migrations/*.sql.
This check reads the syntax tree of every hand-written module under genvid/ and fails on a string literal
that reads as SQL: one starting with a statement keyword (SELECT, INSERT INTO, UPDATE ... SET, DELETE FROM,
WITH, CREATE, DROP, ALTER, TRUNCATE, ...), in any letter case, f-strings included. The few that must stay in
Python are listed, each with its reason, in tools/sql_allowlist.txt; an entry that matches nothing is an
error too, so the list stays true.

    python tools/check_sql.py [PATH ...]      (default: genvid)
"""
from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "tools" / "sql_allowlist.txt"
# A statement keyword at the start, followed by what that statement needs next: prose ("Update the ...",
# "Set MEDIA_STORAGE_URL", "With object storage") does not match.
_OBJECT = r"(TABLE|SCHEMA|INDEX|TYPE|VIEW|FUNCTION|EXTENSION|SEQUENCE|TRIGGER)\b"
SQL = re.compile(r"""^\s*(
      SELECT\s+(\*|[\w"(.,\s]+?\s+FROM\b|[\w"(]+\s*\()|SELECT\s+\d
    | INSERT\s+INTO\b | UPDATE\s+"?\w+"?\s+SET\b | DELETE\s+FROM\b | MERGE\s+INTO\b
    | WITH\s+(RECURSIVE\s+)?\w+\s+AS\s*\(
    | CREATE\s+(OR\s+REPLACE\s+|UNIQUE\s+|TEMP\w*\s+)*""" + _OBJECT + r"""
    | DROP\s+""" + _OBJECT + r""" | ALTER\s+(TABLE|TYPE|SCHEMA|INDEX|SEQUENCE)\b
    | TRUNCATE\s+(TABLE\s+)?"?\w | LOCK\s+TABLE\b | (GRANT|REVOKE)\s+\w+\s+ON\b
    | SET\s+(LOCAL\s+|SESSION\s+)?\w+\s*(=|TO\b) | (BEGIN|COMMIT|ROLLBACK)\s*;?\s*$
    | VACUUM\b | LISTEN\s+\w | NOTIFY\s+\w
    | COPY\s+"?\w+"?(\s*\([^)]*\))?\s+(FROM|TO)\s+(STDIN|STDOUT|PROGRAM|')
)""", re.IGNORECASE | re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Found:
    path: str
    line: int
    text: str


def string_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant, and of the literal text an f-string starts with."""
    inside_f_strings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_f_strings.update(id(part) for part in node.values)
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in inside_f_strings):
            yield node.lineno, node.value


def scan(paths: list[Path]) -> list[Found]:
    found = []
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
            for line, text in string_literals(tree):
                if SQL.match(text):
                    found.append(Found(_shown(file), line, " ".join(text.split())))
    return found


def _shown(file: Path) -> str:
    """file relative to the repository (as the allow-list names it), else as given."""
    resolved = file.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(file)


def read_allowlist() -> list[tuple[str, str, str]]:
    """(path, the SQL's start, why) per entry: `path | SQL start | reason`, '#' starts a comment line."""
    entries = []
    for number, raw in enumerate(ALLOWLIST.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = [part.strip() for part in raw.split("|")]
        if len(parts) != 3 or not all(parts):
            sys.exit(f"{ALLOWLIST.relative_to(ROOT)}:{number}: expected `path | SQL start | reason`")
        entries.append((parts[0], parts[1], parts[2]))
    return entries


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or [ROOT / "genvid"]
    allowed = read_allowlist()
    used: set[int] = set()
    problems = []
    for found in scan(paths):
        match = next((i for i, (path, start, _) in enumerate(allowed)
                      if path == found.path and found.text.startswith(start)), None)
        if match is None:
            problems.append(f"{found.path}:{found.line}: SQL outside queries/ and migrations/: "
                            f"{found.text[:80]!r}")
        else:
            used.add(match)
    if not argv:    # a partial scan cannot tell which entries are stale
        problems += [f"{ALLOWLIST.relative_to(ROOT)}: `{path} | {start}` matches nothing; remove it"
                     for i, (path, start, _) in enumerate(allowed) if i not in used]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Write the statement in queries/*.sql (then `make generate`) and call the generated function; "
              "see CONTRIBUTING.md.", file=sys.stderr)
        return 1
    print(f"no SQL strings outside queries/ and migrations/ ({len(allowed)} allowed, each with its reason)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
