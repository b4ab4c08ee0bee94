"""Advisor accounts with argon2id password hashes, and logins throttled per account.

Every failed login counts against the account name tried (known or not, so that throttling does
not tell which names exist), in the shared database: after `FREE_FAILURES` failures each new
try waits `login_delay(failures)` after the last one, doubling up to `MAX_DELAY_S`, and a
successful login forgets the failures. A try made too early is refused before any password
check, and a name that is no account costs no argon2 either (the answer is only delayed as
long as a real check takes), so a flood of anonymous logins cannot make the server pay argon2.
At most `VERIFY_CONCURRENCY` checks run at once in a process (each takes 64 MiB by default).

Example:
    >>> from assistant.review.db import make_engine
    >>> from assistant.review.migrations import migrate
    >>> engine = make_engine("sqlite:///:memory:"); _ = migrate(engine)
    >>> store = Store(engine)
    >>> accounts = Accounts(store, SharedLimits(store), PasswordHasher(time_cost=1, memory_cost=1024))
    >>> accounts.add("alice", "correct horse").name
    'alice'
    >>> accounts.authenticate("alice", "correct horse").name
    'alice'
"""

from __future__ import annotations

import math
import secrets
import threading
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from assistant.review.errors import AuthenticationFailed, InvalidInput, RateLimited
from assistant.review.limits import SharedLimits
from assistant.review.models import AdvisorRow
from assistant.review.sessions import AdvisorSessions
from assistant.review.store import Store
from assistant.review.views import Advisor

MIN_PASSWORD = 8
#: Failed logins of one account allowed in a row without waiting.
FREE_FAILURES = 5
#: Wait after the first failure beyond the free ones; each further failure doubles it.
FIRST_DELAY_S = 1.0
#: The longest wait between two tries (the real advisor is never locked out for longer).
MAX_DELAY_S = 300.0
#: Failures are forgotten this long after the latest one.
FAILURE_MEMORY_S = 3600.0
#: Password checks running at once in one process; more wait for their turn.
VERIFY_CONCURRENCY = 2
#: How long a login waits for its turn before being told to retry.
VERIFY_WAIT_S = 10.0


def login_delay(failures: int) -> float:
    """Seconds a new try must wait after the latest failed one, given the failures so far.

    >>> [login_delay(n) for n in (0, 4, 5, 6, 7, 12, 40)]
    [0.0, 0.0, 1.0, 2.0, 4.0, 128.0, 300.0]
    """
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2.0 ** min(failures - FREE_FAILURES, 64))


def _login_key(name: str) -> str:
    return f"login:{name[:200]}"


class Accounts:
    """Create, list, change, remove and authenticate advisors.

    Args:
        store: Shared store.
        limits: Shared counters (failed logins).
        hasher: argon2id hasher (argon2-cffi's default RFC 9106 low-memory profile if None).
    """

    def __init__(self, store: Store, limits: SharedLimits, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.limits = limits
        self.hasher = hasher or PasswordHasher()
        self._turns = threading.BoundedSemaphore(VERIFY_CONCURRENCY)
        self._calibration = threading.Lock()
        self._check_s: float | None = None  # typical duration of one password check here

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")

    def add(self, name: str, password: str) -> Advisor:
        """Create an advisor, or give a removed advisor their account back with a new password.

        Raises:
            InvalidInput: bad name, short password, or the name is taken.
        """
        name = (name or "").strip()
        if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
            raise InvalidInput(f"advisor name '{name}' must be 1-64 letters, digits, '.', '_' or '-'")
        self._check_password(password)
        password_hash = self.hasher.hash(password)  # slow on purpose: outside the write lock
        with self.store.write() as session:
            row = session.scalar(select(AdvisorRow).where(AdvisorRow.name == name))
            if row is not None and row.removed_at is None:
                raise InvalidInput(f"advisor '{name}' already exists")
            if row is not None:
                row.password_hash, row.removed_at = password_hash, None
                self.store.event(session, "admin", "advisor_restored", name=name)
            else:
                row = AdvisorRow(name=name, password_hash=password_hash, created_at=self.store.now())
                session.add(row)
                session.flush()
                self.store.event(session, "admin", "advisor_added", name=name)
            return Advisor(row.id, row.name, row.created_at)

    def all(self) -> list[Advisor]:
        """Every advisor who can log in, by name."""
        with self.store.read() as session:
            return [Advisor(r.id, r.name, r.created_at) for r in session.scalars(
                select(AdvisorRow).where(AdvisorRow.removed_at.is_(None)).order_by(AdvisorRow.name))]

    def set_password(self, name: str, password: str) -> int:
        """Change an advisor's password; ends every session of theirs. Returns the sessions ended.

        Raises:
            UnknownAdvisor: no such advisor.
            InvalidInput: short password.
        """
        self._check_password(password)
        password_hash = self.hasher.hash(password)
        with self.store.write() as session:
            row = self.store.advisor(session, name)
            row.password_hash = password_hash
            ended = AdvisorSessions.close_all(session, row)
            self.store.event(session, "admin", "password_changed", name=row.name, sessions_ended=ended)
        self.limits.clear(_login_key(row.name))
        return ended

    def remove(self, name: str) -> int:
        """Remove an advisor: no more logins, every session ended; their past work keeps their name.

        Returns:
            The number of sessions ended.

        Raises:
            UnknownAdvisor: no such advisor (or already removed).
        """
        with self.store.write() as session:
            row = self.store.advisor(session, name)
            row.removed_at = self.store.now()
            ended = AdvisorSessions.close_all(session, row)
            self.store.event(session, "admin", "advisor_removed", name=row.name, sessions_ended=ended)
        return ended

    def _wait(self, key: str) -> float:
        failures, latest = self.limits.recent(key, FAILURE_MEMORY_S)
        if latest is None:
            return 0.0
        return login_delay(failures) - (self.store.now() - latest).total_seconds()

    def _refuse_early_tries(self, key: str) -> None:
        wait = self._wait(key)
        if wait > 0:
            raise RateLimited(wait, f"too many failed logins for this account: retry in {math.ceil(wait)} s")

    def _verify(self, password_hash: str, password: str) -> bool:
        started = time.perf_counter()
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        finally:
            elapsed = time.perf_counter() - started
            self._check_s = elapsed if self._check_s is None else 0.8 * self._check_s + 0.2 * elapsed

    def _as_long_as_a_check(self) -> None:
        """Take as long as a password check, without doing one (for names that are no account)."""
        with self._calibration:
            if self._check_s is None:  # once per process: measure what a check costs here
                self._verify(self.hasher.hash(secrets.token_hex(16)), secrets.token_hex(16))
                return
        time.sleep(self._check_s)

    def authenticate(self, name: str, password: str) -> Advisor:
        """Check a password (one message for an unknown name and a wrong password).

        Raises:
            RateLimited: too many recent failures for this name: retry after `retry_after` s, or
                too many checks under way here.
            AuthenticationFailed: wrong name or password.
        """
        name = (name or "").strip()
        key = _login_key(name)
        self._refuse_early_tries(key)
        with self.store.read() as session:
            row = session.scalar(select(AdvisorRow).where(AdvisorRow.name == name, AdvisorRow.removed_at.is_(None)))
        if row is None:
            self.limits.add(key)
            self._as_long_as_a_check()
            raise AuthenticationFailed("wrong advisor name or password")
        if not self._turns.acquire(timeout=VERIFY_WAIT_S):
            raise RateLimited(5.0, "too many logins are being checked at once: retry in a moment")
        try:
            self._refuse_early_tries(key)  # again: the tries that waited for their turn may have failed
            if not self._verify(row.password_hash, password or ""):
                self.limits.add(key)
                raise AuthenticationFailed("wrong advisor name or password")
        finally:
            self._turns.release()
        self.limits.clear(key)
        if self.hasher.check_needs_rehash(row.password_hash):
            new_hash = self.hasher.hash(password)
            with self.store.write() as session:
                self.store.advisor(session, row.name).password_hash = new_hash
        return Advisor(row.id, row.name, row.created_at)
