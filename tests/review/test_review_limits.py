"""Rate limits in the review database: sliding windows per key, shared by every process."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from assistant.review.db import make_engine
from assistant.review.errors import RateLimited
from assistant.review.limits import KEEP_S, Limits, SharedLimits
from assistant.review.migrations import migrate
from assistant.review.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'review.sqlite'}"


@pytest.fixture
def limits(db, clock) -> SharedLimits:
    engine = make_engine(db)
    migrate(engine)
    return SharedLimits(Store(engine, clock))


def test_limit_per_key_and_window(limits, clock):
    limits.take(("a", 2, 60))
    limits.take(("a", 2, 60))
    limits.take(("b", 2, 60))  # another key has its own quota
    with pytest.raises(RateLimited) as refused:
        limits.take(("a", 2, 60))
    assert refused.value.retry_after == pytest.approx(60), "wait until the oldest hit leaves the window"
    clock.advance(30)
    with pytest.raises(RateLimited) as refused:
        limits.take(("a", 2, 60))
    assert refused.value.retry_after == pytest.approx(30)
    clock.advance(30.001)
    limits.take(("a", 2, 60))  # the window slid past the first two hits


def test_a_refused_hit_is_not_counted(limits, clock):
    limits.take(("a", 1, 10))
    for _ in range(5):
        with pytest.raises(RateLimited):
            limits.take(("a", 1, 10))
    clock.advance(10.001)
    limits.take(("a", 1, 10))


def test_several_keys_are_counted_together_or_not_at_all(limits):
    limits.take(("session:s1", 5, 60), ("address:10.0.0.1", 1, 60))
    with pytest.raises(RateLimited):
        limits.take(("session:s2", 5, 60), ("address:10.0.0.1", 1, 60))
    assert limits.recent("session:s2", 60)[0] == 0, "a refused take counts no key"


def test_two_processes_on_one_database_share_the_counts(limits, db, clock):
    other = SharedLimits(Store(make_engine(db), clock))  # another app process: its own engine
    limits.take(("address:203.0.113.9", 2, 60))
    other.take(("address:203.0.113.9", 2, 60))
    with pytest.raises(RateLimited):
        limits.take(("address:203.0.113.9", 2, 60))


def test_zero_means_unlimited_and_stores_nothing(limits):
    for _ in range(200):
        limits.take(("a", 0, 60))
    assert limits.count() == 0, "an unlimited rule keeps no state"


def test_old_hits_are_swept(limits, clock):
    for i in range(50):
        limits.take((f"session-{i}", 3, 60))
    clock.advance(KEEP_S + 1)
    limits._last_sweep = float("-inf")  # the next write sweeps (each process sweeps once a minute)
    limits.take(("late", 3, 60))
    assert limits.count() == 1, f"idle keys should be swept, {limits.count()} hits remain"


def test_failures_are_counted_and_cleared(limits, clock):
    for _ in range(3):
        limits.add("login:alice")
        clock.advance(1)
    count, latest = limits.recent("login:alice", 3600)
    assert count == 3 and latest == clock.now - timedelta(seconds=1)
    limits.clear("login:alice")
    assert limits.recent("login:alice", 3600) == (0, None)


def test_keys_are_stored_hashed(limits, tmp_path):
    limits.take(("address:203.0.113.9", 5, 60))
    with sqlite3.connect(tmp_path / "review.sqlite") as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM limit_hits")]
    assert len(keys) == 1 and "203.0.113.9" not in keys[0] and len(keys[0]) == 64, keys


@pytest.mark.parametrize("limit, window", [(-1, 60), (1, 0), (1, -5)])
def test_bad_arguments(limits, limit, window):
    with pytest.raises(ValueError):
        limits.take(("a", limit, window))


def test_limits_refuse_negative_values():
    with pytest.raises(ValueError, match=">= 0"):
        Limits(per_session=-1)
