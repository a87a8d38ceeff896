"""The process-plugin protocol: GenerateRequest JSON on stdin, `{"files": [...]}` JSON on stdout."""
import base64
import json
import os
import sys
import traceback
from typing import Any, BinaryIO, TextIO

from sqlcgen.errors import GeneratorError
from sqlcgen.generate import generate
from sqlcgen.request import SYSTEM_SCHEMAS

# Set to a path to also write the request there (without PostgreSQL's own catalog, which the generator
# ignores and which is 1 MB): how tests/data/sqlc/request.json is recorded.
RECORD_ENV = "SQLC_GEN_GENVID_RECORD"


def respond(raw: dict[str, Any]) -> dict[str, Any]:
    """The response object for a decoded request."""
    files = generate(raw)
    return {"files": [{"name": name, "contents": base64.b64encode(text.encode()).decode()}
                      for name, text in files.items()]}


def trim(raw: dict[str, Any]) -> dict[str, Any]:
    """The request without system schemas and the machine-specific plugin command (for recordings)."""
    trimmed: dict[str, Any] = json.loads(json.dumps(raw))
    catalog = trimmed.get("catalog") or {}
    catalog["schemas"] = [s for s in catalog.get("schemas") or () if s.get("name") not in SYSTEM_SCHEMAS]
    return trimmed


def main(stdin: BinaryIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run one generation; errors go to stderr with exit status 1 (2 for a bug in the generator)."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        raw = json.loads(stdin.read())
        if os.environ.get(RECORD_ENV):
            with open(os.environ[RECORD_ENV], "w", encoding="utf-8") as out:
                json.dump(trim(raw), out, indent=1, sort_keys=True)
                out.write("\n")
        response = respond(raw)
    except GeneratorError as exc:
        print(f"sqlc-gen-genvid: {exc}", file=stderr)
        return 1
    except json.JSONDecodeError as exc:
        print(f"sqlc-gen-genvid: BAD_REQUEST: stdin is not JSON ({exc}); set `format: json`", file=stderr)
        return 1
    except Exception:  # noqa: BLE001 - a generator bug: show sqlc's user the traceback
        print("sqlc-gen-genvid: internal error\n" + traceback.format_exc(), file=stderr)
        return 2
    json.dump(response, stdout)
    stdout.flush()
    return 0
