"""Bounded in-process LRU caches for the threat layer, keyed on the database's data version.

A key always contains the data version read at the start of the request (migration 0005: every
write to `incident` or `report` moves it, transactionally, and a value is never reused). The
version is read *before* the data, so a cached value is never older than its key: after any
write the next request reads a new version, misses, and recomputes. Bounded by entries and by
an approximate byte weight, least recently used first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    def __init__(self, max_entries: int, max_bytes: int, weigh: Callable[[V], int]) -> None:
        self.max_entries, self.max_bytes, self.weigh = max_entries, max_bytes, weigh
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: V) -> None:
        weight = self.weigh(value)
        if weight > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, weight)
            self._bytes += weight
            self._evict()

    def resize(self, max_entries: int, max_bytes: int) -> None:
        with self._lock:
            self.max_entries, self.max_bytes = max_entries, max_bytes
            self._evict()

    def _evict(self) -> None:  # caller holds the lock
        while self._items and (len(self._items) > self.max_entries
                               or self._bytes > self.max_bytes):
            _, (_, w) = self._items.popitem(last=False)
            self._bytes -= w

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes


def weigh_bytes(value: bytes) -> int:
    return len(value)


def weigh_cells(value: list[dict[str, Any]]) -> int:
    return 1024 + 2048 * len(value)  # a scored cell as Python dicts: roughly 2 kB
