"""Python names for SQL names: snake_case attributes, CamelCase classes, singular model names."""
import keyword
import re

# Splits "emailVerified" -> "email_Verified", "HTTPStatus" -> "HTTP_Status", "user2Id" -> "user2_Id".
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")
# Names a generated function or module already uses for itself.
_RESERVED = frozenset({"conn", "models", "psycopg", "Jsonb", "Json"})


def snake_case(name: str) -> str:
    """`"emailVerified"` -> `email_verified`, `GetUserByEmail` -> `get_user_by_email`; an identifier."""
    words = _NOT_WORD.sub("_", _BOUNDARY.sub("_", name)).strip("_").lower()
    words = re.sub(r"_+", "_", words) or "column"
    if words[0].isdigit():
        words = "_" + words
    if keyword.iskeyword(words) or keyword.issoftkeyword(words) or words in _RESERVED:
        words += "_"
    return words


def camel_case(name: str) -> str:
    """`credit_ledger` -> `CreditLedger`, `"emailVerified"` -> `EmailVerified`."""
    camel = "".join(part[:1].upper() + part[1:] for part in snake_case(name).split("_") if part)
    return camel if camel and not camel[0].isdigit() else "T" + camel


def constant_case(name: str) -> str:
    """`GetUserByEmail` -> `GET_USER_BY_EMAIL`; enum value `in-progress` -> `IN_PROGRESS`."""
    upper = snake_case(name).rstrip("_").upper().lstrip("_") or "VALUE"
    return upper if not upper[0].isdigit() else "V_" + upper


def singular(word: str) -> str:
    """English singular of a table name's last word: `videos` -> `video`, `categories` -> `category`.

    Deliberately small: the project names tables with regular plurals; words already singular
    (`session`, `status`, `analysis`, `user`) are left alone.
    """
    head, sep, last = word.rpartition("_")
    lower = last.lower()
    if lower.endswith("ies") and len(lower) > 4:
        last = last[:-3] + ("Y" if last[-1].isupper() else "y")
    elif lower.endswith(("sses", "shes", "ches", "xes", "zzes", "uses")):
        last = last[:-2]
    elif lower.endswith(("ss", "us", "is")) or not lower.endswith("s") or len(lower) <= 3:
        pass
    else:
        last = last[:-1]
    return head + sep + last


def model_name(table: str) -> str:
    """The model class of a table: `CamelCase(singular(table))`, `"user"` -> `User`."""
    return camel_case(singular(snake_case(table).rstrip("_")))


def dedupe(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`... whichever is not in `taken`; records the result in `taken`."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name.rstrip('_')}_{n}"
    taken.add(candidate)
    return candidate
