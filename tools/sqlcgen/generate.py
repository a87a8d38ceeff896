"""The pure generator: a decoded GenerateRequest in, {file name: Python source} out."""
from pathlib import PurePosixPath
from typing import Any

from sqlcgen.errors import GeneratorError
from sqlcgen.naming import snake_case
from sqlcgen.render_models import HEADER, build_schema, render_models
from sqlcgen.render_queries import render_module
from sqlcgen.request import Query, parse


def generate(raw: dict[str, Any]) -> dict[str, str]:
    """Render `__init__.py`, `models.py` and one module per queries file; deterministic for one request."""
    request = parse(raw)
    schema = build_schema(request)
    by_module: dict[str, tuple[str, list[Query]]] = {}
    for query in request.queries:
        module = snake_case(PurePosixPath(query.filename).stem)
        if module in ("models", "models_", "__init__"):
            raise GeneratorError("BAD_FILE_NAME", f"{query.filename}: clashes with db/{module}.py; rename it")
        filename, queries = by_module.setdefault(module, (query.filename, []))
        if filename != query.filename:
            raise GeneratorError("BAD_FILE_NAME",
                                 f"{query.filename} and {filename} would both become db/{module}.py")
        queries.append(query)
    files = {"models.py": render_models(request, schema)}
    for module, (filename, queries) in sorted(by_module.items()):
        files[f"{module}.py"] = render_module(filename, queries, schema)
    modules = sorted(["models", *by_module])
    names = ", ".join(modules)
    imports = f"from . import {names}\n"
    if len(imports) > 88:  # isort's wrapping, so ruff stays quiet on the generated package
        imports = "from . import (\n" + "".join(f"    {m},\n" for m in modules) + ")\n"
    exported = "__all__ = [" + ", ".join(f'"{m}"' for m in modules) + "]\n"
    if len(exported) > 88:
        exported = "__all__ = [\n" + "".join(f'    "{m}",\n' for m in modules) + "]\n"
    files["__init__.py"] = (
        HEADER
        + '"""sqlc output: `models` (row types) and a module of query functions per queries/*.sql."""\n'
        + imports + "\n" + exported
    )
    return dict(sorted(files.items()))
