"""Bounded in-process LRU caches for the threat layer, keyed on the database's data version.

A key always contains the data version read at the start of the request (migration 0005: every
write to `incident` or `report` moves it, transactionally, and a value is never reused). The
version is read *before* the data, so a cached value is never older than its key: after any
write the next request reads a new version, misses, and recomputes.

Every threat-layer cache of a process (per-cell sums, scored cells, serialised layers and tiles)
draws on ONE memory budget, `LAYER_BUDGET` (`KINGA_LAYER_CACHE_MB`), set by the app's lifespan
through `configure`: when the caches together exceed it, the least recently used entry of any of
them goes first. Each cache is also bounded in entries.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class Budget:
    """A byte budget shared by several LRUs; eviction picks the globally least recently used."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.lock = threading.RLock()
        self.caches: list[LRU[Any]] = []
        self.tick = itertools.count()
        self.configured: tuple[int, int] | None = None
        self.reserved = 0  # bytes held outside the caches on this budget (the event store)

    @property
    def used(self) -> int:
        with self.lock:
            return sum(c.bytes for c in self.caches)

    def resize(self, max_bytes: int) -> None:
        with self.lock:
            self.max_bytes = max_bytes
            self.fit()

    def reserve(self, nbytes: int) -> None:
        """Hold `nbytes` of the budget outside the caches (the threat event store): the caches
        shrink to the rest, so both together stay within the one budget."""
        with self.lock:
            self.reserved = nbytes
            self.fit()

    def fit(self) -> None:  # caller holds the lock
        used = sum(c.bytes for c in self.caches)
        while used > self.max_bytes - self.reserved:
            oldest = min((c for c in self.caches if len(c)), key=lambda c: c.oldest_stamp(), default=None)
            if oldest is None:
                return
            used -= oldest.pop_oldest()


class LRU(Generic[V]):
    def __init__(self, max_entries: int, max_bytes: int, weigh: Callable[[V], int],
                 budget: Budget | None = None) -> None:
        """`max_bytes` bounds a cache with a budget of its own; with a shared `budget` the
        budget's size is the bound instead."""
        self.max_entries, self.weigh = max_entries, weigh
        self.budget = budget or Budget(max_bytes)
        self.budget.caches.append(self)
        self._lock = self.budget.lock
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._stamps: dict[Hashable, int] = {}  # last use, on the budget's clock (global LRU order)
        self._bytes = 0
        self.hits = self.misses = 0

    @property
    def max_bytes(self) -> int:
        return self.budget.max_bytes

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._stamps[key] = next(self.budget.tick)
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: V) -> None:
        weight = self.weigh(value)
        if weight > self.budget.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, weight)
            self._stamps[key] = next(self.budget.tick)
            self._bytes += weight
            while len(self._items) > self.max_entries:
                self.pop_oldest()
            self.budget.fit()

    def resize(self, max_entries: int, max_bytes: int | None = None) -> None:
        with self._lock:
            self.max_entries = max_entries
            while len(self._items) > self.max_entries:
                self.pop_oldest()
            if max_bytes is not None:
                self.budget.max_bytes = max_bytes
            self.budget.fit()

    def oldest_stamp(self) -> int:
        return self._stamps[next(iter(self._items))]

    def pop_oldest(self) -> int:
        key, (_, w) = self._items.popitem(last=False)
        del self._stamps[key]
        self._bytes -= w
        return w

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._stamps.clear()
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


# The one budget every threat-layer cache of this process draws on (sized by `configure`).
LAYER_BUDGET = Budget(256 << 20)


def layer_cache(max_entries: int, weigh: Callable[[V], int]) -> LRU[V]:
    """A threat-layer cache on the shared budget."""
    return LRU(max_entries, LAYER_BUDGET.max_bytes, weigh, budget=LAYER_BUDGET)


def configure(max_bytes: int, max_entries: int) -> None:
    """One budget for every layer cache, entries per cache: set by the app's lifespan, and
    re-checked (two comparisons) per layer request so a changed setting takes effect."""
    if LAYER_BUDGET.configured == (max_bytes, max_entries):
        return
    with LAYER_BUDGET.lock:
        LAYER_BUDGET.configured = (max_bytes, max_entries)
        for cache in LAYER_BUDGET.caches:
            cache.max_entries = max_entries
            while len(cache) > max_entries:
                cache.pop_oldest()
        LAYER_BUDGET.resize(max_bytes)


def clear_all() -> None:
    with LAYER_BUDGET.lock:
        for cache in LAYER_BUDGET.caches:
            cache.clear()
