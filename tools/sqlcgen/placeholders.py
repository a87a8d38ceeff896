"""sqlc's `$1..$n` placeholders to psycopg 3's `%s`, with literal `%` escaped as `%%`.

Only placeholders outside string literals, quoted identifiers, dollar-quoted bodies and comments are
converted; `%` is escaped everywhere because psycopg scans the whole text for `%` when given params.
"""
import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_PLACEHOLDER = re.compile(r"\$(\d+)")


def convert(sql: str) -> tuple[str, list[int]]:
    """Return the psycopg text and the parameter numbers in the order their `%s` appear (repeats kept)."""
    out: list[str] = []
    order: list[int] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'" or ch == '"':
            end = _quoted_end(sql, i, ch)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "$":
            number = _PLACEHOLDER.match(sql, i)
            tag = _DOLLAR_TAG.match(sql, i)
            previous = sql[i - 1] if i else " "
            if previous.isalnum() or previous == "_":
                out.append(ch)  # "$" inside an identifier such as foo$1
                i += 1
            elif number:
                order.append(int(number.group(1)))
                out.append("%s")
                i = number.end()
            elif tag:
                close = sql.find(tag.group(0), tag.end())
                end = n if close < 0 else close + len(tag.group(0))
                out.append(sql[i:end].replace("%", "%%"))
                i = end
            else:
                out.append(ch)
                i += 1
        else:
            out.append("%%" if ch == "%" else ch)
            i += 1
    return "".join(out), order


def _quoted_end(sql: str, start: int, quote: str) -> int:
    """Index just past the literal or identifier opened at `start` (a doubled quote is an escaped one)."""
    i = start + 1
    while True:
        close = sql.find(quote, i)
        if close < 0:
            return len(sql)
        if sql.startswith(quote * 2, close):
            i = close + 2
            continue
        return close + 1
