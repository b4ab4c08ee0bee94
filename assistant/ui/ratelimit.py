"""A sliding-window rate limit per key (a buyer's session, a client address).

Example:
    >>> limit = RateLimit(2, window_s=60.0, clock=lambda: 0.0)
    >>> limit.hit("session-a"); limit.hit("session-a")
    >>> try:
    ...     limit.hit("session-a")
    ... except RateLimited as exc:
    ...     print(exc)
    2 questions per 60 s at most: wait 60 s
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: Questions one buyer session may ask per minute (a browser tab, or a thread token).
QUESTIONS_PER_MINUTE = 5
#: Questions one client address may ask per minute, whatever the session (API callers can open
#: as many sessions as they like; the address is what they cannot change as cheaply).
QUESTIONS_PER_MINUTE_PER_ADDRESS = 30
#: Failed advisor logins allowed per client address in `LOGIN_WINDOW_S` seconds.
LOGIN_FAILURES = 10
LOGIN_WINDOW_S = 900.0


class RateLimited(Exception):
    """Too many requests for one key; `retry_after` seconds until the next one is allowed."""

    def __init__(self, limit: int, window_s: float, retry_after: float) -> None:
        self.limit, self.window_s, self.retry_after = limit, window_s, retry_after
        super().__init__(f"{limit} questions per {window_s:g} s at most: wait {retry_after:.0f} s")


@dataclass(frozen=True)
class Limits:
    """The buyer-side limits of one app process.

    Args:
        per_session: Questions per minute per buyer session (0 disables the check).
        per_address: Questions per minute per client address (0 disables the check).
    """

    per_session: int = QUESTIONS_PER_MINUTE
    per_address: int = QUESTIONS_PER_MINUTE_PER_ADDRESS

    def __post_init__(self) -> None:
        if self.per_session < 0 or self.per_address < 0:
            raise ValueError(f"rate limits must be >= 0, got {self.per_session} and {self.per_address}")


class RateLimit:
    """At most `limit` hits per key in any `window_s`-second window (thread-safe).

    Args:
        limit: Hits allowed per window; 0 means unlimited.
        window_s: Window length in seconds.
        clock: Monotonic clock (tests move it).
    """

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 0 or window_s <= 0:
            raise ValueError(f"limit must be >= 0 and window > 0, got {limit} and {window_s}")
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        # Forget idle keys now and then, so that memory does not grow with every session ever seen.
        if now - self._last_sweep < self.window_s:
            return
        self._last_sweep = now
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window_s]:
            del self._hits[key]

    def check(self, key: str) -> None:
        """Raise `RateLimited` if `key` has no hit left, without counting one."""
        if not self.limit:
            return
        with self._lock:
            now = self._clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                raise RateLimited(self.limit, self.window_s, max(0.0, hits[0] + self.window_s - now))

    def hit(self, key: str) -> None:
        """Count one hit for `key`, or raise `RateLimited` (and count nothing) when over the limit."""
        if not self.limit:
            return
        with self._lock:
            now = self._clock()
            self._sweep(now)
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                raise RateLimited(self.limit, self.window_s, max(0.0, hits[0] + self.window_s - now))
            hits.append(now)

    def __len__(self) -> int:
        return len(self._hits)
