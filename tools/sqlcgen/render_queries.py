"""`db/<stem>.py`: SQL constants and one keyword-only typed function per query of `queries/<stem>.sql`."""
from dataclasses import dataclass

from sqlcgen.errors import GeneratorError
from sqlcgen.naming import constant_case, dedupe, snake_case
from sqlcgen.pgtypes import PyType, py_type
from sqlcgen.placeholders import convert
from sqlcgen.render_models import HEADER, Model, Schema, _doc, import_block, str_literal
from sqlcgen.request import Column, Query, TypeRef

SUPPORTED = (":one", ":many", ":exec", ":execrows")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A query's pieces: its SQL constant, an optional Row dataclass, its function, the imports they need."""

    constant: str
    row_class: str | None
    function: str
    imports: frozenset[str]


def render_module(filename: str, queries: list[Query], schema: Schema) -> str:
    """The source of the module generated for one queries/*.sql file."""
    parts = [render_query(q, schema) for q in queries]
    imports = {"psycopg"}.union(*(p.imports for p in parts))
    body = "\n\n".join(p.constant for p in parts)
    for part in parts:
        if part.row_class:
            body += "\n\n\n" + part.row_class
    body += "".join("\n\n\n" + p.function for p in parts)
    if "models." in body:
        imports.add("from . import models")
    head = HEADER + f"# source: {filename}\n" + _doc(f"Queries from {filename}.") + "\n"
    return head + import_block(imports) + "\n" + body + "\n"


def render_query(query: Query, schema: Schema) -> Rendered:
    """Render one query; raises GeneratorError for commands the generator does not support."""
    where = f"{query.filename}: {query.name}"
    if query.cmd not in SUPPORTED:
        raise GeneratorError("UNSUPPORTED_COMMAND",
                             f"{where}: {query.cmd} is unsupported (use {', '.join(SUPPORTED)})")
    if query.cmd in (":one", ":many") and not query.columns:
        raise GeneratorError("NO_RESULT_COLUMNS", f"{where}: {query.cmd} query returns no columns")
    constant = constant_case(query.name)
    imports: set[str] = set()
    # Parameters: the sqlc.arg()/@name, else the column name, else p<number>; "conn" is taken.
    taken = {"conn"}
    names: dict[int, tuple[str, PyType]] = {}
    for param in query.params:
        pytype = py_type(param.column, schema.enum_classes, result=False)
        imports |= pytype.imports
        base = snake_case(param.column.name) if param.column.name else f"p{param.number}"
        names[param.number] = (dedupe(base, taken), pytype)
    if query.params:
        sql, order = convert(query.text)
    else:
        sql, order = query.text, []  # without params psycopg sends the text as is: no %% escaping
    values = []
    for number in order:
        if number not in names:
            raise GeneratorError("UNKNOWN_PARAMETER", f"{where}: ${number} has no parameter in the request")
        name, pytype = names[number]
        if pytype.json_wrapper:
            imports.add(pytype.json_wrapper)
            wrapped = f"{pytype.json_wrapper}({name})"
            values.append(f"None if {name} is None else {wrapped}" if pytype.nullable else wrapped)
        else:
            values.append(name)
    args = ""
    if values:
        args = ", (" + ", ".join(values) + ("," if len(values) == 1 else "") + ")"

    row_class, result, build = _result(query, schema, imports)
    signature = [f"{name}: {pytype.full}" for name, pytype in names.values()]
    returns = {":one": f"{result} | None" if result not in ("Any",) and not result.endswith("| None")
               else result, ":many": f"list[{result}]", ":exec": "None", ":execrows": "int"}[query.cmd]
    head = f"def {snake_case(query.name)}(conn: psycopg.Connection"
    head += (", *, " + ", ".join(signature) if signature else "") + f") -> {returns}:"
    if len(head) > 110:
        head = (f"def {snake_case(query.name)}(\n    conn: psycopg.Connection,\n    *,\n"
                + "".join(f"    {s},\n" for s in signature) + f") -> {returns}:")
    doc = " ".join(c.strip() for c in query.comments if c.strip()) or f"{query.name} ({query.cmd})."
    lines = [head, f"    {_doc(doc)}"]
    call = f"conn.execute({constant}{args})"
    if query.cmd == ":one":
        lines += [f"    row = {call}.fetchone()", f"    return None if row is None else {build}"]
    elif query.cmd == ":many":
        lines += [f"    return [{build} for row in {call}.fetchall()]"]
    elif query.cmd == ":exec":
        lines += [f"    {call}"]
    else:
        lines += [f"    return {call}.rowcount"]
    return Rendered(constant=f"{constant} = {_sql_literal(sql)}", row_class=row_class,
                    function="\n".join(lines), imports=frozenset(imports))


def _result(query: Query, schema: Schema, imports: set[str]) -> tuple[str | None, str, str]:
    """(Row dataclass source or None, the row annotation, the expression building it from `row`)."""
    if not query.columns:
        return None, "None", "None"
    model = _whole_table(query.columns, schema)
    if model is not None:
        return None, f"models.{model.class_name}", _construct(f"models.{model.class_name}", model.fields, 0)
    if len(query.columns) == 1 and query.columns[0].embed_table is None:
        pytype = py_type(query.columns[0], schema.enum_classes)
        imports |= pytype.imports
        return None, pytype.full, _value(pytype, 0)
    # A <QueryName>Row dataclass; sqlc.embed(t) columns become a models.T attribute.
    class_name = f"{query.name[:1].upper()}{query.name[1:]}Row"
    taken: set[str] = set()
    fields, values, index = [], [], 0
    for column in query.columns:
        embed = _norm(column.embed_table)
        embedded = schema.models.get(embed) if embed is not None else None
        if embedded is not None:
            name = dedupe(snake_case(embedded.table.rel.name), taken)
            fields.append(f"    {name}: models.{embedded.class_name}")
            values.append(_construct(f"models.{embedded.class_name}", embedded.fields, index))
            index += len(embedded.fields)
            continue
        pytype = py_type(column, schema.enum_classes)
        imports |= pytype.imports
        fields.append(f"    {dedupe(snake_case(column.name), taken)}: {pytype.full}")
        values.append(_value(pytype, index))
        index += 1
    imports.add("dataclass")
    source = "\n".join(["@dataclass(slots=True)", f"class {class_name}:",
                        f"    {_doc(f'A result row of {query.name}.')}", *fields])
    if len(values) == index and all(v == f"row[{i}]" for i, v in enumerate(values)):
        return source, class_name, f"{class_name}(*row)"
    return source, class_name, f"{class_name}({', '.join(values)})"


def _whole_table(columns: tuple[Column, ...], schema: Schema) -> Model | None:
    """The model whose columns the result is, exactly and in order (`RETURNING *`, `SELECT t.*`)."""
    if len(columns) == 1 and columns[0].embed_table is None:
        return None  # one column is a bare value even for a one-column table
    first = _norm(columns[0].table)
    model = schema.models.get(first) if first else None
    if model is None or len(model.table.columns) != len(columns):
        return None
    for column, table_column in zip(columns, model.table.columns):
        if _norm(column.table) != first or column.name != table_column.name or column.embed_table:
            return None
        if column.type != table_column.type or column.is_array != table_column.is_array:
            return None
    return model


def _norm(ref: TypeRef | None) -> TypeRef | None:
    if ref is None:
        return None
    return TypeRef(schema="" if ref.schema in ("public",) else ref.schema, name=ref.name)


def _construct(class_name: str, fields: tuple[tuple[str, PyType], ...], start: int) -> str:
    """`Class(*row)` on the hot path; per-field conversions only where a type needs one (enums, inet)."""
    if start == 0 and all(pytype.load is None for _, pytype in fields):
        return f"{class_name}(*row)"
    if all(pytype.load is None for _, pytype in fields):
        return f"{class_name}(*row[{start}:{start + len(fields)}])"
    return f"{class_name}({', '.join(_value(pytype, start + i) for i, (_, pytype) in enumerate(fields))})"


def _value(pytype: PyType, index: int) -> str:
    item = f"row[{index}]"
    if pytype.load is None:
        return item
    converted = f"{pytype.load}({item})"
    return f"(None if {item} is None else {converted})" if pytype.nullable else converted


def _sql_literal(sql: str) -> str:
    """A triple-quoted literal that reads back exactly (SQL stays readable), else a plain literal."""
    plain = all(ch.isprintable() or ch in "\n\t" for ch in sql)
    if plain and "\\" not in sql and '"""' not in sql:
        # A final '"' (`FROM "user"`) would merge into the closing quotes: escape just that one.
        return '"""' + (sql[:-1] + '\\"' if sql.endswith('"') else sql) + '"""'
    return str_literal(sql)
