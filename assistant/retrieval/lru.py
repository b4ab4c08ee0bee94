"""A small thread-safe least-recently-used cache, for what retrieval computes once per key.

Example:
    >>> cache = Lru(2)
    >>> cache.get("a", lambda: 1), cache.get("b", lambda: 2), cache.get("c", lambda: 3)
    (1, 2, 3)
    >>> cache.get("a", lambda: 10)          # "a" was the oldest: it went, and is made again
    10
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Iterable, Mapping, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """Keeps the values of the `size` keys used last; size 0 keeps nothing.

    Raises:
        ValueError: a negative size.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value of `key`, made by `make()` (outside the lock) when it is not kept."""
        return self.get_many([key], lambda missing: {key: make()})[key]

    def get_many(self, keys: Iterable[K], make: Callable[[list[K]], Mapping[K, V]]) -> dict[K, V]:
        """The values of the keys: kept ones, and those `make(missing keys)` returns (a key it
        leaves out is absent from the result)."""
        keys = list(keys)
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for k in found:
                self._items.move_to_end(k)
        missing = [k for k in keys if k not in found]
        if missing:
            made = dict(make(missing))
            found.update(made)
            if self.size:
                with self._lock:
                    self._items.update(made)
                    while len(self._items) > self.size:
                        self._items.popitem(last=False)
        return found
