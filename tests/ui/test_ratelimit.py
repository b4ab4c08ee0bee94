"""The sliding-window rate limit used for buyer questions and advisor logins."""

from __future__ import annotations

import pytest

from assistant.ui.ratelimit import Limits, RateLimit, RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_and_window():
    clock = Clock()
    limit = RateLimit(2, window_s=60, clock=clock)
    limit.hit("a")
    limit.hit("a")
    limit.hit("b")  # another key has its own quota
    with pytest.raises(RateLimited) as refused:
        limit.hit("a")
    assert refused.value.retry_after == pytest.approx(60), "wait until the oldest hit leaves the window"
    clock.now += 30
    with pytest.raises(RateLimited) as refused:
        limit.check("a")
    assert refused.value.retry_after == pytest.approx(30)
    clock.now += 30.001
    limit.hit("a")  # the window slid past the first two hits


def test_a_refused_hit_is_not_counted():
    clock = Clock()
    limit = RateLimit(1, window_s=10, clock=clock)
    limit.hit("a")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limit.hit("a")
    clock.now += 10.001
    limit.hit("a")


def test_zero_means_unlimited():
    limit = RateLimit(0)
    for _ in range(1000):
        limit.hit("a")
    assert len(limit) == 0, "an unlimited limiter keeps no state"


def test_idle_keys_are_forgotten():
    clock = Clock()
    limit = RateLimit(3, window_s=60, clock=clock)
    for i in range(100):
        limit.hit(f"session-{i}")
    clock.now += 61
    limit.hit("late")
    assert len(limit) == 1, f"idle sessions should be swept, {len(limit)} keys remain"


@pytest.mark.parametrize("limit, window", [(-1, 60), (1, 0), (1, -5)])
def test_bad_arguments(limit, window):
    with pytest.raises(ValueError):
        RateLimit(limit, window)


def test_limits_refuse_negative_values():
    with pytest.raises(ValueError, match=">= 0"):
        Limits(per_session=-1)
