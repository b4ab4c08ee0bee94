"""Rate limits kept in the review database, so that every app process counts the same hits.

A limit is a sliding window per key: at most `limit` hits in any `window_s` seconds. Keys are
stored as their sha256 (fixed length; no client address is kept in clear) and a hit is kept no
longer than `KEEP_S`, then swept. On PostgreSQL a transaction-scoped advisory lock per key
makes check-and-count atomic across processes; SQLite's write lock already does.

Example:
    >>> from assistant.review.db import make_engine
    >>> from assistant.review.migrations import migrate
    >>> engine = make_engine("sqlite:///:memory:"); _ = migrate(engine)
    >>> limits = SharedLimits(Store(engine))
    >>> limits.take(("address:203.0.113.9", 1, 60.0))
    >>> limits.take(("address:203.0.113.9", 1, 60.0))
    Traceback (most recent call last):
    ...
    assistant.review.errors.RateLimited: too many requests: retry in 60 s
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assistant.db.locks import transaction_lock
from assistant.review.errors import RateLimited
from assistant.review.models import LimitHitRow
from assistant.review.store import Store

#: Questions one buyer session may ask per minute (a browser tab, or a thread token).
QUESTIONS_PER_MINUTE = 5
#: Questions one client address may ask per minute, whatever the session (API callers can open
#: as many sessions as they like; the address is what they cannot change as cheaply).
QUESTIONS_PER_MINUTE_PER_ADDRESS = 30
#: No hit is kept longer than this (the longest window any limit uses).
KEEP_S = 86400.0
#: How often one process deletes the hits older than `KEEP_S`.
SWEEP_EVERY_S = 60.0

#: A limit to take: (key, hits allowed per window (0 = unlimited), window in seconds).
Rule = tuple[str, int, float]


@dataclass(frozen=True)
class Limits:
    """The buyer-side limits of the desk.

    Args:
        per_session: Questions per minute per buyer session (0 disables the check).
        per_address: Questions per minute per client address (0 disables the check).
    """

    per_session: int = QUESTIONS_PER_MINUTE
    per_address: int = QUESTIONS_PER_MINUTE_PER_ADDRESS

    def __post_init__(self) -> None:
        if self.per_session < 0 or self.per_address < 0:
            raise ValueError(f"rate limits must be >= 0, got {self.per_session} and {self.per_address}")


def key_hash(key: str) -> str:
    """The stored form of a key (client-made keys may hold any character)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SharedLimits:
    """Sliding-window counters in the review database, shared by every app process.

    Args:
        store: The review store (its clock dates the hits).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._last_sweep = float("-inf")

    def _lock(self, session: Session, hashes: list[str]) -> None:
        for digest in sorted(hashes):  # one order everywhere: no deadlock between two takers
            transaction_lock(session.connection(), int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True))

    def _sweep(self, session: Session, now: datetime) -> None:
        if time.monotonic() - self._last_sweep < SWEEP_EVERY_S:
            return
        self._last_sweep = time.monotonic()
        session.execute(delete(LimitHitRow).where(LimitHitRow.at <= now - timedelta(seconds=KEEP_S)))

    def take(self, *rules: Rule) -> None:
        """Count one hit for every rule's key, or none at all when one of them is spent.

        Raises:
            RateLimited: a key already has `limit` hits in its window; `retry_after` says when
                its oldest hit leaves the window.
            ValueError: a negative limit or a window that is not positive.
        """
        for _, limit, window_s in rules:
            if limit < 0 or window_s <= 0:
                raise ValueError(f"limit must be >= 0 and window > 0, got {limit} and {window_s}")
        active = [(key_hash(key), limit, window_s) for key, limit, window_s in rules if limit]
        if not active:
            return
        with self.store.write() as session:
            self._lock(session, [digest for digest, _, _ in active])
            now = self.store.now()
            self._sweep(session, now)
            for digest, limit, window_s in active:
                since = now - timedelta(seconds=window_s)
                session.execute(delete(LimitHitRow).where(LimitHitRow.key == digest, LimitHitRow.at <= since))
                count, oldest = session.execute(select(func.count(), func.min(LimitHitRow.at))
                                                .where(LimitHitRow.key == digest)).one()
                if count >= limit:
                    raise RateLimited((oldest - since).total_seconds())
            session.add_all(LimitHitRow(key=digest, at=now) for digest, _, _ in active)

    def recent(self, key: str, window_s: float) -> tuple[int, datetime | None]:
        """How many hits `key` had in the last `window_s` seconds, and when the latest was."""
        since = self.store.now() - timedelta(seconds=window_s)
        with self.store.read() as session:
            count, latest = session.execute(select(func.count(), func.max(LimitHitRow.at)).where(
                LimitHitRow.key == key_hash(key), LimitHitRow.at > since)).one()
        return count, latest

    def add(self, key: str) -> None:
        """Count one hit for `key`, with no limit (a failed login, say)."""
        with self.store.write() as session:
            now = self.store.now()
            self._sweep(session, now)
            session.add(LimitHitRow(key=key_hash(key), at=now))

    def clear(self, key: str) -> None:
        """Forget every hit of `key` (a successful login forgets the failures)."""
        with self.store.write() as session:
            session.execute(delete(LimitHitRow).where(LimitHitRow.key == key_hash(key)))

    def count(self) -> int:
        """Hits currently stored, all keys together (tests and monitoring)."""
        with self.store.read() as session:
            return session.scalar(select(func.count()).select_from(LimitHitRow)) or 0
