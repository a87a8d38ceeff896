"""A bounded memo for values computed from objects that are not their key (e.g. a JWT from row objects, keyed
by the row values it shows), where functools.lru_cache, which keys by the call's arguments, does not fit.
When full it forgets everything, and the next caller of each key computes it again."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """value_for(key, compute): compute() once per key until the memo fills up and starts over."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._values: dict[Hashable, V] = {}
        self._max_entries = max_entries

    def value_for(self, key: Hashable, compute: Callable[[], V]) -> V:
        value = self._values.get(key)
        if value is None:
            value = compute()
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = value
        return value
