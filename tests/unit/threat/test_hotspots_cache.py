"""The LRU behind the hotspot caches: bounded in entries and bytes, least recently used out."""

from hypothesis import given
from hypothesis import strategies as st

from app.services.threat.cache import LRU, Budget, weigh_bytes


@given(st.lists(st.tuples(st.integers(0, 30), st.binary(max_size=40)), max_size=200),
       st.integers(1, 8), st.integers(1, 120))
def test_never_exceeds_its_bounds_and_keeps_the_last_put(puts, entries, max_bytes):
    cache: LRU[bytes] = LRU(entries, max_bytes, weigh_bytes)
    for key, value in puts:
        cache.put(key, value)
        assert len(cache) <= entries and cache.bytes <= max_bytes
        assert cache.bytes == sum(len(cache.get(k) or b"") for k in list(cache._items))
        if len(value) <= max_bytes:
            assert cache.get(key) == value


def test_least_recently_used_goes_first():
    cache: LRU[bytes] = LRU(2, 100, weigh_bytes)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"  # a is now the most recent
    cache.put("c", b"3")
    assert cache.get("b") is None and cache.get("a") == b"1" and cache.get("c") == b"3"


def test_resize_evicts_down_to_the_new_bound():
    cache: LRU[bytes] = LRU(10, 100, weigh_bytes)
    for k in range(10):
        cache.put(k, b"x")
    cache.resize(4, 100)
    assert len(cache) == 4 and cache.get(9) == b"x" and cache.get(0) is None


def test_caches_on_one_budget_share_it_and_evict_the_least_recently_used_of_all():
    budget = Budget(100)
    a: LRU[bytes] = LRU(10, 100, weigh_bytes, budget=budget)
    b: LRU[bytes] = LRU(10, 100, weigh_bytes, budget=budget)
    a.put("a1", b"x" * 40)
    b.put("b1", b"x" * 40)
    assert a.get("a1") is not None  # a1 is now more recent than b1
    a.put("a2", b"x" * 40)  # 120 > 100: the oldest of either cache goes
    assert b.get("b1") is None and a.get("a1") is not None and a.get("a2") is not None
    assert budget.used == 80 <= budget.max_bytes
    budget.resize(50)
    assert budget.used <= 50 and len(a) + len(b) == 1
