"""genvid's sqlc process plugin: turns sqlc's GenerateRequest (JSON) into the Python package `db/`.

`generate(request)` is the pure function (request dict -> {file name: source text}); `plugin.main()` is the
stdin/stdout wrapper that sqlc runs through `tools/sqlc-gen-genvid`.
"""
from sqlcgen.errors import GeneratorError
from sqlcgen.generate import generate

__all__ = ["GeneratorError", "generate"]
