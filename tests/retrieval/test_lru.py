"""The small LRU cache retrieval keeps per-chunk and per-query values in."""

from __future__ import annotations

import pytest

from assistant.retrieval.lru import Lru


def test_keeps_the_last_used_keys_and_makes_only_what_is_missing():
    cache, made = Lru(2), []

    def make(keys):
        made.append(list(keys))
        return {k: k.upper() for k in keys if k != "absent"}

    assert cache.get_many(["a", "b"], make) == {"a": "A", "b": "B"}
    assert cache.get_many(["a", "c", "absent"], make) == {"a": "A", "c": "C"}, "absent keys stay absent"
    assert made == [["a", "b"], ["c", "absent"]], "kept keys are not made again"
    cache.get_many(["b"], make)
    assert made[-1] == ["b"], "'b' was the least recently used: it went when 'c' came"
    assert len(cache) == 2


def test_size_zero_keeps_nothing():
    cache, calls = Lru(0), []
    for _ in range(2):
        cache.get("k", lambda: calls.append(1) or 1)
    assert calls == [1, 1] and len(cache) == 0


def test_negative_size_is_refused():
    with pytest.raises(ValueError, match="size must be >= 0, got -1"):
        Lru(-1)
