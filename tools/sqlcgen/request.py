"""The parts of sqlc's GenerateRequest (protojson, proto field names) the generator reads, as dataclasses."""
from dataclasses import dataclass
from typing import Any

from sqlcgen.errors import GeneratorError

# Schemas of PostgreSQL itself: never turned into models.
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_temp", "pg_toast"})


@dataclass(frozen=True, slots=True)
class TypeRef:
    schema: str
    name: str


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    not_null: bool
    is_array: bool
    array_dims: int
    type: TypeRef
    table: TypeRef | None
    is_named_param: bool
    embed_table: TypeRef | None


@dataclass(frozen=True, slots=True)
class Table:
    rel: TypeRef
    columns: tuple[Column, ...]
    comment: str


@dataclass(frozen=True, slots=True)
class Enum:
    schema: str
    name: str
    vals: tuple[str, ...]
    comment: str


@dataclass(frozen=True, slots=True)
class Param:
    number: int
    column: Column


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    cmd: str
    text: str
    filename: str
    columns: tuple[Column, ...]
    params: tuple[Param, ...]
    comments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Request:
    default_schema: str
    tables: tuple[Table, ...]
    enums: tuple[Enum, ...]
    queries: tuple[Query, ...]


def _ref(raw: dict[str, Any] | None) -> TypeRef | None:
    if not raw or not raw.get("name"):
        return None
    return TypeRef(schema=raw.get("schema") or "", name=raw["name"])


def _column(raw: dict[str, Any]) -> Column:
    return Column(
        name=raw.get("name") or "",
        not_null=bool(raw.get("not_null")),
        is_array=bool(raw.get("is_array")),
        array_dims=int(raw.get("array_dims") or (1 if raw.get("is_array") else 0)),
        type=_ref(raw.get("type")) or TypeRef("", ""),
        table=_ref(raw.get("table")),
        is_named_param=bool(raw.get("is_named_param")),
        embed_table=_ref(raw.get("embed_table")),
    )


def parse(raw: dict[str, Any]) -> Request:
    """Read a decoded GenerateRequest; raises GeneratorError when it is not one."""
    if not isinstance(raw, dict) or "catalog" not in raw or "queries" not in raw:
        raise GeneratorError("BAD_REQUEST", "stdin is not a sqlc GenerateRequest (use `format: json`)")
    catalog = raw["catalog"] or {}
    default_schema = catalog.get("default_schema") or "public"
    tables: list[Table] = []
    enums: list[Enum] = []
    for schema in catalog.get("schemas") or ():
        name = schema.get("name") or ""
        if name in SYSTEM_SCHEMAS:
            continue
        for table in schema.get("tables") or ():
            rel = _ref(table.get("rel")) or TypeRef("", "")
            rel = TypeRef(schema="" if name == default_schema else name, name=rel.name)
            columns = tuple(_column(c) for c in table.get("columns") or ())
            tables.append(Table(rel=rel, columns=columns, comment=table.get("comment") or ""))
        for enum in schema.get("enums") or ():
            enums.append(Enum(
                schema="" if name == default_schema else name,
                name=enum["name"],
                vals=tuple(enum.get("vals") or ()),
                comment=enum.get("comment") or "",
            ))
    queries = tuple(
        Query(
            name=q["name"],
            cmd=q["cmd"],
            text=q["text"],
            filename=q.get("filename") or "queries.sql",
            columns=tuple(_column(c) for c in q.get("columns") or ()),
            params=tuple(sorted(
                (Param(number=int(p["number"]), column=_column(p.get("column") or {}))
                 for p in q.get("params") or ()),
                key=lambda p: p.number,
            )),
            comments=tuple(q.get("comments") or ()),
        )
        for q in raw["queries"] or ()
    )
    return Request(default_schema=default_schema, tables=tuple(tables), enums=tuple(enums), queries=queries)
