"""Advisor accounts with argon2id password hashes.

Example:
    >>> from assistant.review.db import make_engine
    >>> from assistant.review.migrations import migrate
    >>> engine = make_engine("sqlite:///:memory:"); _ = migrate(engine)
    >>> accounts = Accounts(Store(engine), PasswordHasher(time_cost=1, memory_cost=1024))
    >>> accounts.add("alice", "correct horse").name
    'alice'
    >>> accounts.authenticate("alice", "correct horse").name
    'alice'
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from assistant.review.errors import AuthenticationFailed, InvalidInput
from assistant.review.models import AdvisorRow
from assistant.review.store import Store
from assistant.review.views import Advisor

MIN_PASSWORD = 8


class Accounts:
    """Create, list and authenticate advisors.

    Args:
        store: Shared store.
        hasher: argon2id hasher (argon2-cffi's default RFC 9106 low-memory profile if None).
    """

    def __init__(self, store: Store, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def add(self, name: str, password: str) -> Advisor:
        """Create an advisor.

        Raises:
            InvalidInput: bad name, short password, or the name is taken.
        """
        name = (name or "").strip()
        if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
            raise InvalidInput(f"advisor name '{name}' must be 1-64 letters, digits, '.', '_' or '-'")
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
        password_hash = self.hasher.hash(password)  # slow on purpose: outside the write lock
        with self.store.write() as session:
            if session.scalar(select(AdvisorRow).where(AdvisorRow.name == name)) is not None:
                raise InvalidInput(f"advisor '{name}' already exists")
            row = AdvisorRow(name=name, password_hash=password_hash, created_at=self.store.now())
            session.add(row)
            session.flush()
            self.store.event(session, "admin", "advisor_added", name=name)
            return Advisor(row.id, row.name, row.created_at)

    def all(self) -> list[Advisor]:
        """Every advisor, by name."""
        with self.store.read() as session:
            return [Advisor(r.id, r.name, r.created_at)
                    for r in session.scalars(select(AdvisorRow).order_by(AdvisorRow.name))]

    def authenticate(self, name: str, password: str) -> Advisor:
        """Check a password (one message for an unknown name and a wrong password).

        Raises:
            AuthenticationFailed: wrong name or password.
        """
        with self.store.read() as session:
            row = session.scalar(select(AdvisorRow).where(AdvisorRow.name == (name or "").strip()))
        try:
            if row is None:
                # Same cost as a real check, so that timing does not tell which names exist.
                self._dummy_hash = self._dummy_hash or self.hasher.hash(secrets.token_hex(16))
                self.hasher.verify(self._dummy_hash, password or " ")
                raise VerificationError()
            self.hasher.verify(row.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailed("wrong advisor name or password") from None
        if self.hasher.check_needs_rehash(row.password_hash):
            new_hash = self.hasher.hash(password)
            with self.store.write() as session:
                self.store.advisor(session, row.name).password_hash = new_hash
        return Advisor(row.id, row.name, row.created_at)
