"""PostgreSQL types to Python annotations, and what a value needs on its way in or out of psycopg."""
from dataclasses import dataclass

from sqlcgen.request import Column

_SCALARS: dict[str, tuple[str, str | None]] = {}  # pg name -> (annotation, module to import)


def _register(annotation: str, module: str | None, *names: str) -> None:
    for name in names:
        _SCALARS[name] = (annotation, module)


_register("str", None, "text", "varchar", "character varying", "bpchar", "char", "character", "citext",
          "name", "inet", "cidr", "macaddr", "ltree")
_register("int", None, "int2", "int4", "int8", "smallint", "integer", "int", "bigint", "serial", "serial2",
          "serial4", "serial8", "smallserial", "bigserial", "oid")
_register("decimal.Decimal", "decimal", "numeric", "decimal")
_register("float", None, "float4", "float8", "real", "double precision")
_register("bool", None, "bool", "boolean")
_register("datetime.datetime", "datetime", "timestamptz", "timestamp", "timestamp with time zone",
          "timestamp without time zone")
_register("datetime.date", "datetime", "date")
_register("datetime.time", "datetime", "time", "timetz", "time with time zone", "time without time zone")
_register("datetime.timedelta", "datetime", "interval")
_register("bytes", None, "bytea")
_register("uuid.UUID", "uuid", "uuid")
_register("Any", "typing", "json", "jsonb")

# psycopg loads these as ipaddress objects; the contract promises str, so results are converted.
_STR_CONVERTED = frozenset({"inet", "cidr"})


@dataclass(frozen=True, slots=True)
class PyType:
    """How one column or parameter looks in Python."""

    annotation: str        # without the nullable suffix, e.g. "list[str]" or "models.VideoStatus"
    nullable: bool
    imports: frozenset[str]
    json_wrapper: str | None = None   # "Jsonb"/"Json": wrap parameter values so psycopg sends JSON
    load: str | None = None           # "models.VideoStatus"/"str": convert result values

    @property
    def full(self) -> str:
        """The annotation including `| None` for nullable values."""
        if self.nullable and self.annotation != "Any":
            return f"{self.annotation} | None"
        return self.annotation


def base_name(column: Column) -> tuple[str, str]:
    """(schema, name) of a column's type with the `pg_catalog.` noise sqlc sometimes adds removed."""
    schema, name = column.type.schema, column.type.name
    if name.startswith("pg_catalog."):
        schema, name = "pg_catalog", name[len("pg_catalog."):]
    elif "." in name and not schema:
        schema, name = name.split(".", 1)
    if schema in ("pg_catalog", "public"):
        schema = ""
    return schema, name.lower() if name.lower() in _SCALARS else name


def py_type(column: Column, enums: dict[tuple[str, str], str], *, result: bool = True) -> PyType:
    """Map a result column (or, `result=False`, a parameter) to its Python type.

    `enums` maps (schema, enum name) to the enum's class name in models.py.
    """
    schema, name = base_name(column)
    imports: set[str] = set()
    json_wrapper = load = None
    enum_class = enums.get((schema, name))
    if enum_class is not None:
        annotation = f"models.{enum_class}"
        load = annotation
    elif name in _SCALARS:
        annotation, module = _SCALARS[name]
        if module:
            imports.add(module)
        if name in ("json", "jsonb"):
            json_wrapper = "Jsonb" if name == "jsonb" else "Json"
        if name in _STR_CONVERTED:
            load = "str"
    else:
        annotation = "Any"
        imports.add("typing")
    if column.is_array and not result:
        load = None  # psycopg dumps lists of str (and str enums) fine
    if column.is_array:
        for _ in range(max(column.array_dims, 1)):
            annotation = f"list[{annotation}]"
        # psycopg returns arrays of unregistered types (enums) as text and arrays of inet as lists of
        # ipaddress objects; say Any rather than promise a type the value does not have.
        if load is not None and enum_class is not None:
            annotation, load = "Any", None
            imports.add("typing")
        elif load is not None:
            annotation, load = "list[Any]", None
            imports.add("typing")
    return PyType(annotation=annotation, nullable=not column.not_null, imports=frozenset(imports),
                  json_wrapper=None if column.is_array else json_wrapper, load=load)

